//! How one item looks: its title as a heading, category, workspace, due date and state.

use leptos::prelude::*;

use super::action_center::ListActions;
use super::format;
use crate::i18n::*;
use crate::items::{
    ArchiveItem, Category, DueState, ItemId, ItemView, MarkRead, OpenItem, SnoozeItem, SnoozeLength, Status,
    UnarchiveItem,
};
use server_fn::ServerFn;

#[component]
pub fn CategoryLabel(category: Category) -> impl IntoView {
    let i18n = use_i18n();
    let class = match category {
        Category::Mandatory => "bg-red-50 text-red-800 ring-red-200",
        Category::Recommended => "bg-amber-50 text-amber-900 ring-amber-200",
        Category::Transactional => "bg-sky-50 text-sky-900 ring-sky-200",
        Category::Promotional => "bg-violet-50 text-violet-900 ring-violet-200",
    };
    view! {
        <span class=format!("rounded-full px-2 py-0.5 font-medium ring-1 {class}") data-testid="category">
            {category_name(i18n, category)}
        </span>
    }
}

/// The category's name in the UI language.
pub fn category_name(i18n: UiLanguage, category: Category) -> &'static str {
    match category {
        Category::Mandatory => tu_string!(i18n, mandatory),
        Category::Recommended => tu_string!(i18n, recommended),
        Category::Transactional => tu_string!(i18n, transactional),
        Category::Promotional => tu_string!(i18n, promotional),
    }
}

/// The workspace's name in the UI language (unknown workspaces show their id).
pub fn workspace_label(i18n: UiLanguage, workspace: &str) -> String {
    match workspace {
        "account_settings" => tu_string!(i18n, ws_account_settings).to_string(),
        "marketplace_offers" => tu_string!(i18n, ws_marketplace_offers).to_string(),
        "referrals" => tu_string!(i18n, ws_referrals).to_string(),
        "incentives" => tu_string!(i18n, ws_incentives).to_string(),
        "membership" => tu_string!(i18n, ws_membership).to_string(),
        "billing" => tu_string!(i18n, ws_billing).to_string(),
        "customers" => tu_string!(i18n, ws_customers).to_string(),
        other => other.to_string(),
    }
}

/// An action's due date and, when it matters, whether it is overdue or due soon.
#[component]
pub fn DueLabel(item: ItemView) -> impl IntoView {
    let i18n = use_i18n();
    let state = item.due_state(crate::items::now());
    let status = item.status;
    item.due_at.map(|ms| {
        view! {
            <span class="text-slate-700">{tu_string!(i18n, due)} " " <format::LocalTime ms /></span>
            {match (status, state) {
                (Status::Completed, _) => Some(view! { <span class="font-medium text-green-800">{tu_string!(i18n, completed)}</span> }.into_any()),
                (Status::Cancelled, _) => Some(view! { <span class="font-medium text-slate-600">{tu_string!(i18n, cancelled)}</span> }.into_any()),
                (_, Some(DueState::Overdue)) => Some(view! { <span class="rounded bg-red-700 px-1.5 font-semibold text-white" data-testid="overdue">{tu_string!(i18n, overdue)}</span> }.into_any()),
                (_, Some(DueState::DueSoon)) => Some(view! { <span class="rounded bg-amber-100 px-1.5 font-semibold text-amber-900">{tu_string!(i18n, due_soon)}</span> }.into_any()),
                _ => None,
            }}
        }
    })
}

/// What an item card offers besides its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardControls {
    /// Read only (the overview).
    None,
    /// Archive where allowed, and a box to select it for "Archive selected".
    Archive,
    /// Unarchive (the Archived view).
    Unarchive,
}

/// The form that "Archive selected" submits; each card's selection box belongs to it.
pub const BULK_ARCHIVE_FORM: &str = "bulk-archive";

/// One item. Its buttons are forms posting to the item server functions; in the page (with
/// the wasm) they act through the list's `ListActions` instead, without leaving the page.
/// Opening its link marks it read on the way.
#[component]
pub fn ItemCard(item: ItemView, #[prop(optional)] controls: Option<CardControls>) -> impl IntoView {
    let i18n = use_i18n();
    let actions = use_context::<ListActions>();
    let controls = controls.unwrap_or(CardControls::None);
    let heading_id = format!("item-{}", item.id);
    let archivable = item.can_be_archived() && !item.archived;
    let select = (controls == CardControls::Archive && archivable).then(|| {
        let id = item.id.clone();
        let ticked = {
            let id = id.clone();
            move || actions.is_some_and(|a| a.selected.with(|s| s.contains(&id)))
        };
        let on_change = {
            let id = id.clone();
            move |ev: leptos::ev::Event| {
                if let Some(a) = actions {
                    let on = event_target_checked(&ev);
                    a.selected.update(|s| {
                        s.retain(|ticked| ticked != &id);
                        if on {
                            s.push(id.clone());
                        }
                    });
                }
            }
        };
        view! {
            <input
                type="checkbox"
                form=BULK_ARCHIVE_FORM
                name="item_ids[]"
                value=id
                prop:checked=ticked
                on:change=on_change
                class="mt-1 h-4 w-4 rounded border-slate-400"
                aria-label=format!("{} {}", tu_string!(i18n, select_item), item.title)
            />
        }
    });
    let archive = match controls {
        CardControls::Archive if archivable => Some((ArchiveItem::url(), tu_string!(i18n, archive), true)),
        CardControls::Unarchive if item.archived => {
            Some((UnarchiveItem::url(), tu_string!(i18n, unarchive), false))
        }
        _ => None,
    }
    .map(|(action, label, archiving)| {
        let card = item.clone();
        let on_submit = move |ev: leptos::ev::SubmitEvent| {
            if let (Some(a), Some(id)) = (actions, super::form_value(&ev, "item_id")) {
                ev.prevent_default();
                a.archive(id.into(), card.clone(), archiving);
            }
        };
        let shortcut = archiving.then_some(super::shortcuts::ARCHIVE_SHORTCUT);
        view! { <CardButton action label item_id=item.id.clone() on_submit shortcut /> }
    });
    let snooze = (controls == CardControls::Archive && archivable).then(|| {
        let card = item.clone();
        let on_submit = move |ev: leptos::ev::SubmitEvent| {
            let minutes = super::form_value(&ev, "minutes").and_then(|m| m.parse().ok());
            if let (Some(a), Some(id), Some(minutes)) = (actions, super::form_value(&ev, "item_id"), minutes) {
                ev.prevent_default();
                a.snooze(id.into(), card.clone(), minutes);
            }
        };
        let choices = SnoozeLength::ALL.map(|length| {
            let label = match length {
                SnoozeLength::Hour => tu_string!(i18n, snooze_hour),
                SnoozeLength::FourHours => tu_string!(i18n, snooze_4_hours),
                SnoozeLength::Day => tu_string!(i18n, snooze_day),
                SnoozeLength::Week => tu_string!(i18n, snooze_week),
            };
            view! { <option value=length.minutes().to_string()>{label}</option> }
        });
        view! {
            <form method="post" action=SnoozeItem::url() on:submit=on_submit class="flex gap-1">
                <input type="hidden" name="item_id" value=item.id.clone() />
                <select
                    name="minutes"
                    aria-label=format!("{} {}", tu_string!(i18n, snooze_for), item.title)
                    class="rounded-md border border-slate-300 bg-white px-1 py-1 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
                >
                    {choices.into_iter().collect_view()}
                </select>
                <button
                    type="submit"
                    class="rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
                >
                    {tu_string!(i18n, snooze)}
                </button>
            </form>
        }
    });
    let snoozed = item.snoozed_until.map(|ms| {
        view! {
            <span class="text-slate-700" data-testid="snoozed">{tu_string!(i18n, snoozed_until)} " " <format::LocalTime ms /></span>
        }
    });
    let unread = !item.read && item.kind == crate::items::Kind::Notification;
    let mark_read = (unread && controls != CardControls::None).then(|| {
        let card = item.clone();
        let on_submit = move |ev: leptos::ev::SubmitEvent| {
            if let (Some(a), Some(id)) = (actions, super::form_value(&ev, "item_id")) {
                ev.prevent_default();
                a.mark_read(id.into(), card.clone());
            }
        };
        view! { <CardButton action=MarkRead::url() label=tu_string!(i18n, mark_read) item_id=item.id.clone() on_submit /> }
    });
    // A link out of the page: the router leaves it to the browser.
    let title_view = match item.link.is_some() {
        true => view! {
            <a href=format!("{}?item_id={}", OpenItem::url(), item.id) rel="external" class="hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600">
                {item.title.clone()}
            </a>
        }
        .into_any(),
        false => item.title.clone().into_any(),
    };
    let unread =
        unread.then(|| view! { <span class="font-medium text-blue-800">{tu_string!(i18n, unread)}</span> });
    let workspace = workspace_label(i18n, &item.workspace);
    let labelled_by = heading_id.clone();
    view! {
        <article tabindex="-1" class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600" aria-labelledby=labelled_by data-testid="item" data-read=item.read.to_string()>
            <div class="flex items-start gap-3">
                {select}
                <div class="min-w-0 flex-1">
                    <h3 id=heading_id class="font-semibold text-slate-900">{title_view}</h3>
                    {(!item.body.is_empty()).then(|| view! { <p class="mt-1 text-sm text-slate-700">{item.body.clone()}</p> })}
                    <div class="mt-2 flex flex-wrap items-center gap-2 text-xs">
                        <CategoryLabel category=item.category />
                        <span class="text-slate-700" data-testid="workspace">{workspace}</span>
                        <DueLabel item=item.clone() />
                        {snoozed}
                        {unread}
                    </div>
                </div>
                <div class="flex shrink-0 flex-col gap-2 sm:flex-row">
                    {mark_read}
                    {snooze}
                    {archive}
                </div>
            </div>
        </article>
    }
}

/// A card's button: a form posting the item's id to `action`. `shortcut` names the keyboard
/// shortcut that presses it (see `shortcuts`).
#[component]
fn CardButton(
    action: &'static str,
    label: &'static str,
    item_id: ItemId,
    on_submit: impl FnMut(leptos::ev::SubmitEvent) + 'static,
    #[prop(default = None)] shortcut: Option<&'static str>,
) -> impl IntoView {
    view! {
        <form method="post" action=action on:submit=on_submit>
            <input type="hidden" name="item_id" value=item_id />
            <button
                type="submit"
                data-shortcut=shortcut
                class="rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
            >
                {label}
            </button>
        </form>
    }
}
