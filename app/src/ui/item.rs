//! How one item looks: its title as a heading, category, workspace, due date and state.

use leptos::prelude::*;

use super::format;
use crate::i18n::*;
use crate::items::{Category, DueState, ItemView, Status};
use leptos_i18n::I18nContext;

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
pub fn category_name(i18n: I18nContext<Locale>, category: Category) -> &'static str {
    match category {
        Category::Mandatory => tu_string!(i18n, mandatory),
        Category::Recommended => tu_string!(i18n, recommended),
        Category::Transactional => tu_string!(i18n, transactional),
        Category::Promotional => tu_string!(i18n, promotional),
    }
}

/// The workspace's name in the UI language (unknown workspaces show their id).
pub fn workspace_label(i18n: I18nContext<Locale>, workspace: &str) -> String {
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

pub const WORKSPACES: [&str; 7] = [
    "account_settings",
    "marketplace_offers",
    "referrals",
    "incentives",
    "membership",
    "billing",
    "customers",
];

/// An action's due date and, when it matters, whether it is overdue or due soon.
#[component]
pub fn DueLabel(item: ItemView) -> impl IntoView {
    let i18n = use_i18n();
    let hydrated = format::hydrated();
    let due_at = item.due_at;
    let state = item.due_state(crate::items::now());
    let status = item.status;
    due_at.map(|ms| {
        let date = move || {
            if hydrated.get() { format::local(ms, i18n.get_locale_untracked().as_str()) } else { format::utc(ms) }
        };
        view! {
            <span class="text-slate-700">
                {move || format!("{} {}", tu_string!(i18n, due), date())}
            </span>
            {match (status, state) {
                (Status::Completed, _) => Some(view! { <span class="font-medium text-green-800">{tu_string!(i18n, completed).to_string()}</span> }.into_any()),
                (Status::Cancelled, _) => Some(view! { <span class="font-medium text-slate-600">{tu_string!(i18n, cancelled).to_string()}</span> }.into_any()),
                (_, Some(DueState::Overdue)) => Some(view! { <span class="rounded bg-red-700 px-1.5 font-semibold text-white" data-testid="overdue">{tu_string!(i18n, overdue).to_string()}</span> }.into_any()),
                (_, Some(DueState::DueSoon)) => Some(view! { <span class="rounded bg-amber-100 px-1.5 font-semibold text-amber-900">{tu_string!(i18n, due_soon).to_string()}</span> }.into_any()),
                _ => None,
            }}
        }
    })
}

/// One item in a list. `on_archive` / `on_unarchive` are offered where allowed; `selected`
/// is the bulk selection (archivable items only).
#[component]
pub fn ItemCard(
    item: ItemView,
    #[prop(optional)] on_archive: Option<Callback<ItemView>>,
    #[prop(optional)] on_unarchive: Option<Callback<ItemView>>,
    #[prop(optional)] selected: Option<RwSignal<std::collections::BTreeSet<String>>>,
    #[prop(optional)] on_open: Option<Callback<ItemView>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let heading_id = format!("item-{}", item.id);
    let archivable = item.can_be_archived() && !item.archived;
    let id = item.id.clone();
    let title = item.title.clone();
    let select = selected.filter(|_| archivable).map(|selected| {
        let id_check = id.clone();
        let id_toggle = id.clone();
        view! {
            <input
                type="checkbox"
                class="mt-1 h-4 w-4 rounded border-slate-400"
                aria-label=move || format!("{} {}", tu_string!(i18n, select_item), title)
                prop:checked=move || selected.with(|s| s.contains(&id_check))
                on:change=move |_| selected.update(|s| {
                    if !s.remove(&id_toggle) {
                        s.insert(id_toggle.clone());
                    }
                })
            />
        }
    });
    let archive = on_archive.filter(|_| archivable).map(|cb| {
        view! { <ItemButton item=item.clone() on_press=cb>{tu_string!(i18n, archive)}</ItemButton> }
    });
    let unarchive = on_unarchive.filter(|_| item.archived).map(|cb| {
        view! { <ItemButton item=item.clone() on_press=cb>{tu_string!(i18n, unarchive)}</ItemButton> }
    });
    // One optional slot, not two adjacent empty ones: an item shows Archive or Unarchive or neither.
    let buttons = archive
        .map(IntoAny::into_any)
        .or_else(|| unarchive.map(IntoAny::into_any));
    let title_view = match item.link.clone() {
        Some(href) => {
            let opened = item.clone();
            view! {
                <a href=href class="hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600" on:click=move |_| {
                    if let Some(cb) = on_open {
                        cb.run(opened.clone());
                    }
                }>
                    {item.title.clone()}
                </a>
            }
            .into_any()
        }
        None => item.title.clone().into_any(),
    };
    let unread = (!item.read && item.kind == crate::items::Kind::Notification).then(|| {
        view! { <span class="font-medium text-blue-800">{tu_string!(i18n, unread).to_string()}</span> }
    });
    let workspace = workspace_label(i18n, &item.workspace);
    let labelled_by = heading_id.clone();
    view! {
        <article class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby=labelled_by data-testid="item">
            <div class="flex items-start gap-3">
                {select}
                <div class="min-w-0 flex-1">
                    <h3 id=heading_id class="font-semibold text-slate-900">{title_view}</h3>
                    {(!item.body.is_empty()).then(|| view! { <p class="mt-1 text-sm text-slate-700">{item.body.clone()}</p> })}
                    <div class="mt-2 flex flex-wrap items-center gap-2 text-xs">
                        <CategoryLabel category=item.category />
                        <span class="text-slate-700" data-testid="workspace">{workspace}</span>
                        <DueLabel item=item.clone() />
                        {unread}
                    </div>
                </div>
                {buttons.map(|b| view! { <div class="flex shrink-0 gap-2">{b}</div> })}
            </div>
        </article>
    }
}

/// A button on an item card that hands the item to `on_press`.
#[component]
fn ItemButton(item: ItemView, on_press: Callback<ItemView>, children: Children) -> impl IntoView {
    view! {
        <button
            type="button"
            on:click=move |_| on_press.run(item.clone())
            class="rounded-md border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
        >
            {children()}
        </button>
    }
}
