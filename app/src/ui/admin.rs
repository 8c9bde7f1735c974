//! The admin pages (account admins only): users and their roles, inviting a user, and the
//! organisation's audit trail. Server HTML; every control is a form.

use leptos::prelude::*;

use super::format;
use crate::admin::{AdminInviteForm, AdminSetRole, Members, admin_audit, admin_members};
use crate::i18n::*;
use leptos_router::hooks::use_query_map;
use server_fn::ServerFn;

const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 focus:border-blue-600 focus:outline-none focus:ring-2 focus:ring-blue-600";
const BUTTON: &str = "rounded-md bg-blue-700 px-4 py-2 font-medium text-white hover:bg-blue-800 disabled:bg-slate-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 focus-visible:ring-offset-2";

#[component]
pub fn AdminPage() -> impl IntoView {
    let i18n = use_i18n();
    let members = Resource::new(|| (), |_| admin_members());
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
                        view! { <p role="alert" class="text-red-800">{e.to_string()}</p> }.into_any()
                    }
                    Ok(m) => view! { <MemberTable initial=m /> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// The users with a switch per role. Each switch is a form of its own: pressing it posts the
/// change, and the page comes back with the roles as the server now has them (a refused change
/// leaves the switch where it was and says why).
#[component]
fn MemberTable(initial: Members) -> impl IntoView {
    let i18n = use_i18n();
    let refused = super::refusal::<AdminSetRole>().or_else(super::refusal::<AdminInviteForm>);
    let Members { members, roles } = initial;
    let headers = roles.clone();
    view! {
        {refused.map(|e| view! {
            <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{e.to_string()}</p>
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
                    {members.into_iter().map(|m| {
                        let status = if m.invited { tu_string!(i18n, admin_invited) } else { "" };
                        view! {
                            <tr class="border-t border-slate-100" data-testid="member">
                                <th scope="row" class="px-3 py-2 text-left font-normal">
                                    <span class="font-medium">{m.display_name.clone()}</span>
                                    <span class="block text-slate-600">{m.email.clone()}</span>
                                    <span class="block text-xs text-amber-800">{status}</span>
                                </th>
                                {roles.iter().map(|role| {
                                    let has = m.roles.contains(role);
                                    view! {
                                        <td class="px-2 py-2 text-center">
                                            <form method="post" action=AdminSetRole::url()>
                                                <input type="hidden" name="user_id" value=m.id.clone() />
                                                <input type="hidden" name="role" value=role.clone() />
                                                <input type="hidden" name="granted" value=(!has).to_string() />
                                                <RoleSwitch on=has label=format!("{role}: {}", m.email) />
                                            </form>
                                        </td>
                                    }
                                }).collect_view()}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <InviteForm roles />
    }
}

/// A switch that submits its form: on shows a filled track, off an empty one.
#[component]
fn RoleSwitch(on: bool, label: String) -> impl IntoView {
    let track = if on { "bg-blue-700" } else { "bg-slate-300" };
    let knob = if on { "translate-x-5" } else { "translate-x-0" };
    view! {
        <button type="submit" role="switch" aria-checked=on.to_string() aria-label=label
            class=format!("relative inline-flex h-6 w-11 shrink-0 items-center rounded-full {track} focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 focus-visible:ring-offset-2")>
            <span aria-hidden="true" class=format!("inline-block h-5 w-5 transform rounded-full bg-white shadow transition {knob}")></span>
        </button>
    }
}

#[component]
fn InviteForm(roles: Vec<String>) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map().get_untracked();
    let sent_to = query.get("invited");
    view! {
        <form method="post" action=AdminInviteForm::url() class="space-y-4 rounded-lg border border-slate-200 bg-white p-4">
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
            {sent_to.map(|to| view! {
                <p role="status" class="text-sm text-green-800">{format!("{} {to}", tu_string!(i18n, admin_invite_sent))}</p>
            })}
            <button type="submit" class=BUTTON>{tu_string!(i18n, admin_invite_button)}</button>
        </form>
    }
}

#[component]
pub fn AuditTrailPage() -> impl IntoView {
    let i18n = use_i18n();
    let before = use_query_map()
        .get_untracked()
        .get("before")
        .and_then(|b| b.parse::<i64>().ok());
    let page = Resource::new(move || before, admin_audit);
    view! {
        <section class="space-y-4">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h1 class="text-2xl font-semibold">{tu_string!(i18n, audit_title)}</h1>
                <a href="/admin" class="font-medium text-blue-800 underline">{tu_string!(i18n, admin_title)}</a>
            </div>
            <Suspense fallback=|| ()>
                {move || page.get().map(|page| match page {
                    Err(e) => {
                        super::respond_with(&e);
                        view! { <p role="alert" class="text-red-800">{e.to_string()}</p> }.into_any()
                    }
                    Ok(page) => view! { <AuditTable page /> }.into_any(),
                })}
            </Suspense>
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
