//! The admin pages (account admins only): users and their roles, inviting a user, and the
//! organisation's audit trail. Every control is a form, which the page handles itself when the
//! wasm runs.

use leptos::prelude::*;

use super::format;
use crate::admin::{
    AdminInviteForm, AdminSetEmailDefault, AdminSetRole, Members, admin_audit, admin_delivery,
    admin_email_defaults, admin_members,
};
use crate::i18n::*;
use crate::orgs::{Role, UserId};
use leptos_router::hooks::use_query_map;
use server_fn::ServerFn;

const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 focus:border-blue-600 focus:outline-none focus:ring-2 focus:ring-blue-600";
const BUTTON: &str = "rounded-md bg-blue-700 px-4 py-2 font-medium text-white hover:bg-blue-800 disabled:bg-slate-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 focus-visible:ring-offset-2";

#[component]
pub fn AdminPage() -> impl IntoView {
    let i18n = use_i18n();
    let members = super::page_resource(|| (), |_| admin_members());
    view! {
        <section class="space-y-6">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h1 class="text-2xl font-semibold">{tu_string!(i18n, admin_title)}</h1>
                <a href="/admin/audit" class="font-medium text-blue-800 underline">{tu_string!(i18n, audit_title)}</a>
            </div>
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, loading)}</p> }>
                {move || members.get().map(|m| match m {
                    Err(e) => {
                        super::respond_with(&e);
                        view! { <p role="alert" class="text-red-800">{super::error_text(i18n, &e)}</p> }.into_any()
                    }
                    Ok(m) => view! { <MemberTable initial=m /> }.into_any(),
                })}
            </Suspense>
            <EmailDefaults />
            <Delivery />
        </section>
    }
}

/// Which workspaces' transactional and promotional email the organisation's new users start
/// with. A switch per workspace, each a form of its own, as the role switches are.
#[component]
fn EmailDefaults() -> impl IntoView {
    let i18n = use_i18n();
    let loaded = super::page_resource(|| (), |_| admin_email_defaults());
    let refusal =
        RwSignal::new(super::refusal::<AdminSetEmailDefault>().map(|e| super::error_text(i18n, &e)));
    view! {
        <section aria-labelledby="defaults-title" class="space-y-2">
            <h2 id="defaults-title" class="text-xl font-semibold">{tu_string!(i18n, defaults_title)}</h2>
            <p class="text-sm text-slate-600">{tu_string!(i18n, defaults_intro)}</p>
            {move || refusal.get().map(|r| view! { <p role="alert" class="text-red-800">{r}</p> })}
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, loading)}</p> }>
                {move || loaded.get().map(|defaults| match defaults {
                    Err(e) => view! { <p role="alert" class="text-red-800">{super::error_text(i18n, &e)}</p> }.into_any(),
                    Ok(defaults) => {
                        let defaults = RwSignal::new(defaults);
                        let names: Vec<crate::items::Workspace> =
                            defaults.get_untracked().into_iter().map(|d| d.workspace).collect();
                        view! {
                            <ul class="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white">
                                {names
                                    .into_iter()
                                    .map(|workspace| view! { <DefaultSwitch workspace defaults refusal /> })
                                    .collect_view()}
                            </ul>
                        }
                        .into_any()
                    }
                })}
            </Suspense>
        </section>
    }
}

/// One workspace's default: pressing it flips it at once and asks the server, which answers
/// with the defaults as they now are (a refusal puts it back and says why).
#[component]
fn DefaultSwitch(
    workspace: crate::items::Workspace,
    defaults: RwSignal<Vec<crate::admin::EmailDefault>>,
    refusal: RwSignal<Option<String>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let on = {
        let workspace = workspace.clone();
        move || defaults.with(|ds| ds.iter().any(|d| d.workspace == workspace && d.on))
    };
    let on_submit = {
        let (workspace, on) = (workspace.clone(), on.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let next = !on();
            let workspace = workspace.clone();
            let before = defaults.get_untracked();
            defaults.update(|ds| {
                if let Some(d) = ds.iter_mut().find(|d| d.workspace == workspace) {
                    d.on = next;
                }
            });
            refusal.set(None);
            leptos::task::spawn_local(async move {
                match crate::admin::admin_set_email_default(workspace, next).await {
                    Ok(now) => defaults.set(now),
                    Err(e) => {
                        defaults.set(before);
                        refusal.set(Some(super::error_text(i18n, &e)));
                    }
                }
            });
        }
    };
    let label = super::item::workspace_label(i18n, &workspace);
    let on = Signal::derive(on);
    view! {
        <li class="flex items-center justify-between gap-4 px-4 py-2">
            <span>{label.clone()}</span>
            <form method="post" action=AdminSetEmailDefault::url() on:submit=on_submit>
                <input type="hidden" name="workspace" value=workspace />
                <input type="hidden" name="on" value=move || (!on.get()).to_string() />
                <SwitchButton on label described_by="defaults-title" />
            </form>
        </li>
    }
}

/// What became of the organisation's newest items.
#[component]
fn Delivery() -> impl IntoView {
    let i18n = use_i18n();
    let lines = super::page_resource(|| (), |_| admin_delivery());
    let cell = "px-3 py-2 text-right tabular-nums";
    view! {
        <section aria-labelledby="delivery-title" class="space-y-2">
            <h2 id="delivery-title" class="text-xl font-semibold">{tu_string!(i18n, delivery_title)}</h2>
            <p class="text-sm text-slate-600">{tu_string!(i18n, delivery_intro)}</p>
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, loading)}</p> }>
                {move || lines.get().map(|lines| match lines {
                    Err(e) => view! { <p role="alert" class="text-red-800">{super::error_text(i18n, &e)}</p> }.into_any(),
                    Ok(lines) if lines.is_empty() => view! { <p>{tu_string!(i18n, delivery_none)}</p> }.into_any(),
                    Ok(lines) => view! {
                        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
                            <table class="min-w-full text-sm" data-testid="delivery">
                                <thead class="bg-slate-50 text-left">
                                    <tr>
                                        <th scope="col" class="px-3 py-2">{tu_string!(i18n, delivery_item)}</th>
                                        <th scope="col" class=cell>{tu_string!(i18n, delivery_reached)}</th>
                                        <th scope="col" class=cell>{tu_string!(i18n, delivery_emailed)}</th>
                                        <th scope="col" class=cell>{tu_string!(i18n, delivery_failed)}</th>
                                        <th scope="col" class=cell>{tu_string!(i18n, delivery_read)}</th>
                                        <th scope="col" class=cell>{tu_string!(i18n, delivery_archived)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {lines
                                        .into_iter()
                                        .map(|line| {
                                            let r = line.report;
                                            view! {
                                                <tr class="border-t border-slate-200">
                                                    <th scope="row" class="px-3 py-2 text-left font-medium">
                                                        {line.title}
                                                        <span class="ml-2 text-xs font-normal text-slate-600">{super::item::category_name(i18n, line.category)}</span>
                                                    </th>
                                                    <td class=cell>{r.reached}</td>
                                                    <td class=cell>{r.emailed}</td>
                                                    <td class=cell>{r.failed}</td>
                                                    <td class=cell>{r.read}</td>
                                                    <td class=cell>{r.archived}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                    .into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// The users with a switch per role. Each switch is a form of its own. In the page, pressing
/// it flips the switch at once and asks the server, which answers with the roles as it now has
/// them (a refused change puts the switch back and says why); without the wasm the page comes
/// back with them.
#[component]
fn MemberTable(initial: Members) -> impl IntoView {
    let i18n = use_i18n();
    let posted_refusal = super::refusal::<AdminSetRole>().or_else(super::refusal::<AdminInviteForm>);
    let refusal = RwSignal::new(posted_refusal.map(|e| super::error_text(i18n, &e)));
    let members = RwSignal::new(initial.members);
    let roles = initial.roles;
    let invite = ServerAction::<AdminInviteForm>::new();
    // An invited user joins the table.
    Effect::new(move |_| {
        if let Some(Ok(_)) = invite.value().get() {
            leptos::task::spawn_local(async move {
                if let Ok(m) = admin_members().await {
                    members.set(m.members);
                }
            });
        }
    });
    let headers = roles.clone();
    let invite_roles = roles.clone();
    view! {
        {move || refusal.get().map(|e| view! {
            <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{e}</p>
        })}
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="min-w-full text-sm">
                <caption class="sr-only">{tu_string!(i18n, admin_users)}</caption>
                <thead class="bg-slate-50 text-left">
                    <tr>
                        <th scope="col" class="px-3 py-2">{tu_string!(i18n, admin_user)}</th>
                        {headers.into_iter().map(|r| view! { <th scope="col" class="px-2 py-2 font-medium">{r}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    <For each=move || members.get() key=|m| (m.id.clone(), m.invited) let:m>
                        <tr class="border-t border-slate-100" data-testid="member">
                            <th scope="row" class="px-3 py-2 text-left font-normal">
                                <span class="font-medium">{m.display_name.clone()}</span>
                                <span class="block text-slate-600">{m.email.clone()}</span>
                                <span class="block text-xs text-amber-800">{if m.invited { tu_string!(i18n, admin_invited) } else { "" }}</span>
                            </th>
                            {roles.iter().map(|role| view! {
                                <td class="px-2 py-2 text-center">
                                    <RoleSwitch user_id=m.id.clone() email=m.email.clone() role=role.clone() members refusal />
                                </td>
                            }).collect_view()}
                        </tr>
                    </For>
                </tbody>
            </table>
        </div>
        <InviteForm roles=invite_roles invite />
    }
}

/// A user's role as a switch that submits its form: on shows a filled track, off an empty one.
#[component]
fn RoleSwitch(
    user_id: UserId,
    email: String,
    role: Role,
    members: RwSignal<Vec<crate::admin::Member>>,
    refusal: RwSignal<Option<String>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let has = {
        let (user_id, role) = (user_id.clone(), role.clone());
        move || members.with(|ms| ms.iter().any(|m| m.id == user_id && m.roles.contains(&role)))
    };
    let on_submit = {
        let (user_id, role, has) = (user_id.clone(), role.clone(), has.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let granted = !has();
            let (user_id, role) = (user_id.clone(), role.clone());
            let before = members.get_untracked();
            members.update(|ms| {
                if let Some(m) = ms.iter_mut().find(|m| m.id == user_id) {
                    m.roles.retain(|r| *r != role);
                    if granted {
                        m.roles.push(role.clone());
                    }
                }
            });
            refusal.set(None);
            leptos::task::spawn_local(async move {
                match crate::admin::admin_set_role(user_id, role, granted).await {
                    Ok(now) => members.set(now.members),
                    Err(e) => {
                        members.set(before);
                        refusal.set(Some(super::error_text(i18n, &e)));
                    }
                }
            });
        }
    };
    let on = Signal::derive(has.clone());
    view! {
        <form method="post" action=AdminSetRole::url() on:submit=on_submit>
            <input type="hidden" name="user_id" value=user_id />
            <input type="hidden" name="role" value=role.clone() />
            <input type="hidden" name="granted" value=move || (!has()).to_string() />
            <SwitchButton on label=format!("{role}: {email}") />
        </form>
    }
}

/// The submit button of a form that flips one setting, drawn as a switch.
#[component]
fn SwitchButton(
    on: Signal<bool>,
    label: String,
    #[prop(optional)] described_by: Option<&'static str>,
) -> impl IntoView {
    view! {
        <button type="submit" role="switch" aria-checked=move || on.get().to_string() aria-label=label aria-describedby=described_by
            class=move || format!("relative inline-flex h-6 w-11 shrink-0 items-center rounded-full {} focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 focus-visible:ring-offset-2", if on.get() { "bg-blue-700" } else { "bg-slate-300" })>
            <span aria-hidden="true" class=move || format!("inline-block h-5 w-5 transform rounded-full bg-white shadow transition {}", if on.get() { "translate-x-5" } else { "translate-x-0" })></span>
        </button>
    }
}

#[component]
fn InviteForm(roles: Vec<Role>, invite: ServerAction<AdminInviteForm>) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map().get_untracked();
    let posted_to = query.get("invited");
    let sent_to = move || match invite.value().get() {
        Some(Ok(to)) => Some(to),
        Some(Err(_)) => None,
        None => posted_to.clone(),
    };
    let refused = move || {
        invite
            .value()
            .get()
            .and_then(|v| v.err())
            .map(|e| super::error_text(i18n, &e))
    };
    view! {
        <ActionForm action=invite attr:class="space-y-4 rounded-lg border border-slate-200 bg-white p-4">
            <h2 class="text-lg font-semibold">{tu_string!(i18n, admin_invite_title)}</h2>
            <div class="grid gap-4 sm:grid-cols-2">
                <div>
                    <label for="invite_email" class="block text-sm font-medium">{tu_string!(i18n, email)}</label>
                    <input id="invite_email" name="email" type="email" required maxlength="254" pattern=super::EMAIL_PATTERN class=INPUT />
                </div>
                <div>
                    <label for="invite_name" class="block text-sm font-medium">{tu_string!(i18n, admin_name)}</label>
                    <input id="invite_name" name="display_name" type="text" required maxlength="200" class=INPUT />
                </div>
            </div>
            <fieldset>
                <legend class="text-sm font-medium">{tu_string!(i18n, admin_roles)}</legend>
                <div class="mt-1 flex flex-wrap gap-3">
                    {roles.into_iter().map(|role| {
                        let id = format!("invite_role_{role}");
                        let label_for = id.clone();
                        view! {
                            <label for=label_for class="flex items-center gap-1 text-sm">
                                <input id=id type="checkbox" name=format!("roles[{role}]") value="on" class="h-4 w-4 accent-blue-700" />
                                {role.clone()}
                            </label>
                        }
                    }).collect_view()}
                </div>
            </fieldset>
            {move || refused().map(|e| view! { <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{e}</p> })}
            <p role="status" class="text-sm text-green-800">
                {move || sent_to().map(|to| format!("{} {to}", tu_string!(i18n, admin_invite_sent)))}
            </p>
            <button type="submit" class=BUTTON>{tu_string!(i18n, admin_invite_button)}</button>
        </ActionForm>
    }
}

#[component]
pub fn AuditTrailPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let before = move || query.with(|q| q.get("before").and_then(|b| b.parse::<i64>().ok()));
    let page = super::page_resource(before, admin_audit);
    view! {
        <section class="space-y-4">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h1 class="text-2xl font-semibold">{tu_string!(i18n, audit_title)}</h1>
                <a href="/admin" class="font-medium text-blue-800 underline">{tu_string!(i18n, admin_title)}</a>
            </div>
            <Transition fallback=|| ()>
                {move || page.get().map(|page| match page {
                    Err(e) => {
                        super::respond_with(&e);
                        view! { <p role="alert" class="text-red-800">{super::error_text(i18n, &e)}</p> }.into_any()
                    }
                    Ok(page) => view! { <AuditTable page /> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AuditTable(page: crate::admin::AuditPage) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="min-w-full text-sm">
                <thead class="bg-slate-50 text-left">
                    <tr>
                        <th scope="col" class="px-3 py-2">{tu_string!(i18n, audit_when)}</th>
                        <th scope="col" class="px-3 py-2">{tu_string!(i18n, audit_who)}</th>
                        <th scope="col" class="px-3 py-2">{tu_string!(i18n, audit_what)}</th>
                        <th scope="col" class="px-3 py-2">{tu_string!(i18n, audit_subject)}</th>
                        <th scope="col" class="px-3 py-2">{tu_string!(i18n, audit_detail)}</th>
                    </tr>
                </thead>
                <tbody>
                    {page.lines.into_iter().map(|l| view! {
                        <tr class="border-t border-slate-100 align-top" data-testid="audit-line">
                            <td class="whitespace-nowrap px-3 py-2"><format::LocalTime ms=l.at /></td>
                            <td class="px-3 py-2">{l.actor}</td>
                            <td class="px-3 py-2 font-mono text-xs">{l.action}</td>
                            <td class="px-3 py-2">{l.subject.unwrap_or_default()}</td>
                            <td class="px-3 py-2 font-mono text-xs break-all">{l.detail}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {page.next_before.map(|before| view! {
            <a href=format!("/admin/audit?before={before}") class="font-medium text-blue-800 underline">{tu_string!(i18n, older_entries)}</a>
        })}
    }
}
