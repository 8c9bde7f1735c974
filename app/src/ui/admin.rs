//! The admin pages (account admins only): users and their roles, inviting a user, and the
//! organisation's audit trail.

use leptos::prelude::*;

use super::format;
use crate::admin::{AdminAudit, AdminInvite, AdminSetRole, Invitation, Members, admin_audit, admin_members};
use crate::i18n::*;

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

/// The users with a switch per role; every change goes to the server at once.
#[component]
fn MemberTable(initial: Members) -> impl IntoView {
    let i18n = use_i18n();
    let members = RwSignal::new(initial);
    // Bumped on every answer, so each row is drawn anew from it (a refused switch flips back).
    let version = RwSignal::new(0u32);
    let set_role = ServerAction::<AdminSetRole>::new();
    let invite = ServerAction::<AdminInvite>::new();
    Effect::new(move |_| {
        if let Some(Ok(m)) = set_role.value().get() {
            members.set(m);
            version.update(|v| *v += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(m)) = invite.value().get() {
            members.set(m);
        }
    });
    // A refused change puts the switch back where the server has it.
    let refresh = Action::new(|_: &()| admin_members());
    Effect::new(move |_| {
        if let Some(Err(_)) = set_role.value().get() {
            refresh.dispatch(());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(m)) = refresh.value().get() {
            members.set(m);
            version.update(|v| *v += 1);
        }
    });
    view! {
        {move || set_role.value().get().and_then(|r| r.err()).map(|e| view! {
            <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{e.to_string()}</p>
        })}
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="min-w-full text-sm">
                <caption class="sr-only">{tu_string!(i18n, admin_users)}</caption>
                <thead class="bg-slate-50 text-left">
                    <tr>
                        <th scope="col" class="px-3 py-2">{tu_string!(i18n, admin_user)}</th>
                        {move || members.with(|m| m.roles.clone()).into_iter().map(|r| view! {
                            <th scope="col" class="px-2 py-2 font-medium">{r}</th>
                        }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    <For
                        each=move || {
                            let v = version.get();
                            members.get().members.into_iter().map(move |m| (v, m))
                        }
                        key=|(v, m)| (*v, m.id.clone())
                        children=move |(_, m)| {
                            let roles = members.with_untracked(|all| all.roles.clone());
                            let status = if m.invited { tu_string!(i18n, admin_invited).to_string() } else { String::new() };
                            view! {
                                <tr class="border-t border-slate-100" data-testid="member">
                                    <th scope="row" class="px-3 py-2 text-left font-normal">
                                        <span class="font-medium">{m.display_name.clone()}</span>
                                        <span class="block text-slate-600">{m.email.clone()}</span>
                                        <span class="block text-xs text-amber-800">{status}</span>
                                    </th>
                                    {roles.into_iter().map(|role| {
                                        let has = m.roles.contains(&role);
                                        let label = format!("{role}: {}", m.email);
                                        let (user_id, r) = (m.id.clone(), role.clone());
                                        view! {
                                            <td class="px-2 py-2 text-center">
                                                <input type="checkbox" role="switch" aria-label=label checked=has
                                                    class="h-5 w-5 accent-blue-700"
                                                    on:change=move |ev| {
                                                        set_role.dispatch(AdminSetRole {
                                                            user_id: user_id.clone(),
                                                            role: r.clone(),
                                                            granted: event_target_checked(&ev),
                                                        });
                                                    } />
                                            </td>
                                        }
                                    }).collect_view()}
                                </tr>
                            }
                        }
                    />
                </tbody>
            </table>
        </div>
        <InviteForm invite roles=Signal::derive(move || members.with(|m| m.roles.clone())) />
    }
}

#[component]
fn InviteForm(invite: ServerAction<AdminInvite>, roles: Signal<Vec<String>>) -> impl IntoView {
    let i18n = use_i18n();
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<String>::new());
    let sent_to = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(_)) = invite.value().get() {
            sent_to.set(Some(email.get_untracked()));
            email.set(String::new());
            name.set(String::new());
            chosen.set(Vec::new());
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        sent_to.set(None);
        invite.dispatch(AdminInvite {
            invitation: Invitation {
                email: email.get_untracked(),
                display_name: name.get_untracked(),
                roles: chosen.get_untracked(),
            },
        });
    };
    view! {
        <form on:submit=on_submit class="space-y-4 rounded-lg border border-slate-200 bg-white p-4" novalidate>
            <h2 class="text-lg font-semibold">{tu_string!(i18n, admin_invite_title)}</h2>
            <div class="grid gap-4 sm:grid-cols-2">
                <div>
                    <label for="invite_email" class="block text-sm font-medium">{tu_string!(i18n, email)}</label>
                    <input id="invite_email" type="email" required maxlength="254" class=INPUT
                        prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev)) />
                </div>
                <div>
                    <label for="invite_name" class="block text-sm font-medium">{tu_string!(i18n, admin_name)}</label>
                    <input id="invite_name" type="text" required maxlength="200" class=INPUT
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                </div>
            </div>
            <fieldset>
                <legend class="text-sm font-medium">{tu_string!(i18n, admin_roles)}</legend>
                <div class="mt-1 flex flex-wrap gap-3">
                    {move || roles.get().into_iter().map(|role| {
                        let r = role.clone();
                        let id = format!("invite_role_{role}");
                        let label_for = id.clone();
                        view! {
                            <label for=label_for class="flex items-center gap-1 text-sm">
                                <input id=id type="checkbox" class="h-4 w-4 accent-blue-700"
                                    prop:checked=move || chosen.with(|c| c.contains(&r))
                                    on:change={
                                        let r = role.clone();
                                        move |ev| chosen.update(|c| {
                                            c.retain(|x| *x != r);
                                            if event_target_checked(&ev) { c.push(r.clone()); }
                                        })
                                    } />
                                {role.clone()}
                            </label>
                        }
                    }).collect_view()}
                </div>
            </fieldset>
            {move || invite.value().get().and_then(|r| r.err()).map(|e| view! {
                <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{e.to_string()}</p>
            })}
            {move || sent_to.get().map(|to| view! {
                <p role="status" class="text-sm text-green-800">{format!("{} {to}", tu_string!(i18n, admin_invite_sent))}</p>
            })}
            <button type="submit" class=BUTTON disabled=move || invite.pending().get()>{tu_string!(i18n, admin_invite_button)}</button>
        </form>
    }
}

#[component]
pub fn AuditTrailPage() -> impl IntoView {
    let i18n = use_i18n();
    let first = Resource::new(|| (), |_| admin_audit(None));
    view! {
        <section class="space-y-4">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h1 class="text-2xl font-semibold">{tu_string!(i18n, audit_title)}</h1>
                <a href="/admin" class="font-medium text-blue-800 underline">{tu_string!(i18n, admin_title)}</a>
            </div>
            <Suspense fallback=move || view! { <p>{tu_string!(i18n, loading)}</p> }>
                {move || first.get().map(|page| match page {
                    Err(e) => {
                        super::respond_with(&e);
                        view! { <p role="alert" class="text-red-800">{e.to_string()}</p> }.into_any()
                    }
                    Ok(page) => view! { <AuditTable first=page /> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn AuditTable(first: crate::admin::AuditPage) -> impl IntoView {
    let i18n = use_i18n();
    let lines = RwSignal::new(first.lines);
    let next = RwSignal::new(first.next_before);
    let more = ServerAction::<AdminAudit>::new();
    Effect::new(move |_| {
        if let Some(Ok(page)) = more.value().get() {
            lines.update(|l| l.extend(page.lines));
            next.set(page.next_before);
        }
    });
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
                    <For each=move || lines.get() key=|l| l.id children=move |l| view! {
                        <tr class="border-t border-slate-100 align-top" data-testid="audit-line">
                            <td class="whitespace-nowrap px-3 py-2">{format::utc(l.at)}</td>
                            <td class="px-3 py-2">{l.actor.clone()}</td>
                            <td class="px-3 py-2 font-mono text-xs">{l.action.clone()}</td>
                            <td class="px-3 py-2">{l.subject.clone().unwrap_or_default()}</td>
                            <td class="px-3 py-2 font-mono text-xs break-all">{l.detail.clone()}</td>
                        </tr>
                    } />
                </tbody>
            </table>
        </div>
        <Show when=move || next.get().is_some()>
            <button type="button" class=BUTTON disabled=move || more.pending().get()
                on:click=move |_| { more.dispatch(AdminAudit { before: next.get_untracked() }); }>
                {tu_string!(i18n, load_more)}
            </button>
        </Show>
    }
}
