//! First-run setup and the basics of My preferences: job function, email language and
//! notification email, with what cannot be turned off explained.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::item::workspace_label;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::i18n::*;
use crate::preferences::{
    EMAIL_LANGUAGES, Preferences, PreferencesForm, ResendVerification, SavePreferences, SwitchPositions,
    get_preferences,
};
use leptos_i18n::I18nContext;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormMode {
    /// First run: saving completes setup and opens the Action Center.
    Setup,
    Preferences,
}

#[component]
pub fn Setup(user: Resource<Result<Option<CurrentUser>, AppError>>) -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(Some(u))) = user.get()
            && u.setup_completed
        {
            navigate("/action-center", Default::default());
        }
    });
    view! {
        <section class="mx-auto max-w-xl rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h1 class="text-2xl font-semibold">{tu_string!(i18n, setup_title)}</h1>
            <p class="mt-1 text-slate-700">{tu_string!(i18n, setup_intro)}</p>
            <PreferencesForm mode=FormMode::Setup />
        </section>
    }
}

#[component]
pub fn PreferencesPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="mx-auto max-w-xl rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h1 class="text-2xl font-semibold">{tu_string!(i18n, preferences_title)}</h1>
            <PreferencesForm mode=FormMode::Preferences />
            <form method="post" action="/sign-out-everywhere" class="mt-8 border-t border-slate-200 pt-6">
                <p id="sign_out_everywhere_help" class="text-sm text-slate-600">{tu_string!(i18n, sign_out_everywhere_help)}</p>
                <button type="submit" aria-describedby="sign_out_everywhere_help"
                    class="mt-2 rounded-md border border-red-700 px-3 py-1.5 text-sm font-medium text-red-800 hover:bg-red-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-600">
                    {tu_string!(i18n, sign_out_everywhere)}
                </button>
            </form>
        </section>
    }
}

fn language_name(i18n: I18nContext<Locale>, tag: &str) -> String {
    match tag {
        "nl" => tu_string!(i18n, dutch).to_string(),
        "de" => tu_string!(i18n, german).to_string(),
        "fr" => tu_string!(i18n, french).to_string(),
        _ => tu_string!(i18n, english).to_string(),
    }
}

#[component]
fn PreferencesForm(mode: FormMode) -> impl IntoView {
    let i18n = use_i18n();
    let prefs = Resource::new(|| (), |_| get_preferences());
    view! {
        <Suspense fallback=move || view! { <p class="mt-4">{tu_string!(i18n, loading)}</p> }>
            {move || prefs.get().map(|p| match p {
                Err(e) => view! { <p role="alert" class="mt-4 text-red-800">{e.to_string()}</p> }.into_any(),
                Ok(p) => view! { <PreferencesFields mode prefs=p /> }.into_any(),
            })}
        </Suspense>
    }
}

const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 focus:border-blue-600 focus:outline-none focus:ring-2 focus:ring-blue-600";

/// The form itself, its fields held in signals and sent whole as JSON on Save.
#[component]
fn PreferencesFields(mode: FormMode, prefs: Preferences) -> impl IntoView {
    let i18n = use_i18n();
    let save = ServerAction::<SavePreferences>::new();
    let resend = ServerAction::<ResendVerification>::new();
    let job = RwSignal::new(prefs.job_function.clone());
    let language = RwSignal::new(prefs.email_language.clone());
    let email = RwSignal::new(prefs.notification_email.clone());
    let transactional = RwSignal::new(prefs.email.transactional);
    let promotional = RwSignal::new(prefs.email.promotional);
    let workspaces_off = RwSignal::new(prefs.email.workspaces_off.clone());
    let current = RwSignal::new(prefs.clone());
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            current.set(saved);
            // After setup the whole page reloads, so every part of it sees the completed setup.
            if mode == FormMode::Setup {
                #[cfg(feature = "hydrate")]
                {
                    let _ = window().location().set_href("/action-center");
                }
            }
        }
    });
    let workspaces = prefs.workspaces.clone();
    let on_submit = {
        let workspaces = workspaces.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let off = workspaces_off.get_untracked();
            let form = PreferencesForm {
                job_function: job.get_untracked(),
                email_language: language.get_untracked(),
                notification_email: email.get_untracked(),
                switches: SwitchPositions {
                    in_app: Some(true),
                    categories: [
                        ("mandatory".to_string(), true),
                        ("recommended".to_string(), true),
                        ("transactional".to_string(), transactional.get_untracked()),
                        ("promotional".to_string(), promotional.get_untracked()),
                    ]
                    .into(),
                    workspaces: workspaces.iter().map(|w| (w.clone(), !off.contains(w))).collect(),
                },
            };
            save.dispatch(SavePreferences { form });
        }
    };
    let verified = move || current.with(|p| p.notification_email_verified);
    view! {
        <form on:submit=on_submit class="mt-6 space-y-6" novalidate>
            <div>
                <label for="job_function" class="block text-sm font-medium">{tu_string!(i18n, job_function)}</label>
                <input id="job_function" type="text" maxlength="100" class=INPUT
                    value=prefs.job_function.clone() on:input=move |ev| job.set(event_target_value(&ev)) />
            </div>
            <div>
                <label for="email_language" class="block text-sm font-medium">{tu_string!(i18n, email_language)}</label>
                <select id="email_language" class=INPUT on:change=move |ev| language.set(event_target_value(&ev))>
                    {EMAIL_LANGUAGES
                        .into_iter()
                        .map(|tag| view! { <option value=tag selected=move || language.get() == tag>{language_name(i18n, tag)}</option> })
                        .collect_view()}
                </select>
            </div>
            <div>
                <label for="notification_email" class="block text-sm font-medium">{tu_string!(i18n, notification_email)}</label>
                <input id="notification_email" type="email" required class=INPUT aria-describedby="notification_email_help"
                    value=prefs.notification_email.clone() on:input=move |ev| email.set(event_target_value(&ev)) />
                <div id="notification_email_help" class="mt-1 text-sm text-slate-600">
                    <span data-testid="verification" class=move || if verified() { "font-medium text-green-800" } else { "font-medium text-amber-800" }>
                        {move || if verified() { tu_string!(i18n, verified) } else { tu_string!(i18n, unverified) }}
                    </span>
                    " · "
                    {move || if verified() {
                        tu_string!(i18n, notification_email_help).to_string()
                    } else {
                        current.with(|p| format!(
                            "{} {}. {} {}.",
                            tu_string!(i18n, verification_pending_prefix),
                            p.notification_email,
                            tu_string!(i18n, verification_pending_suffix),
                            p.sign_in_email
                        ))
                    }}
                </div>
                <Show when=move || !verified()>
                    <button type="button" on:click=move |_| { resend.dispatch(ResendVerification {}); }
                        disabled=move || resend.pending().get()
                        class="mt-2 rounded-md border border-blue-700 px-3 py-1.5 text-sm font-medium text-blue-800 hover:bg-blue-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600">
                        {tu_string!(i18n, send_verification)}
                    </button>
                    {move || resend.value().get().map(|r| match r {
                        Ok(()) => view! { <p role="status" class="mt-1 text-sm text-green-800">{tu_string!(i18n, verification_sent)}</p> }.into_any(),
                        Err(e) => view! { <p role="alert" class="mt-1 text-sm text-red-800">{e.to_string()}</p> }.into_any(),
                    })}
                </Show>
            </div>
            <fieldset class="space-y-3">
                <legend class="text-sm font-semibold">{tu_string!(i18n, email_by_category)}</legend>
                <LockedSwitch id="switch_in_app" label=tu_string!(i18n, switch_in_app) reason=tu_string!(i18n, lock_in_app) />
                <LockedSwitch id="switch_mandatory" label=tu_string!(i18n, switch_mandatory) reason=tu_string!(i18n, lock_action_email) />
                <LockedSwitch id="switch_recommended" label=tu_string!(i18n, switch_recommended) reason=tu_string!(i18n, lock_action_email) />
                <OptionalSwitch id="switch_transactional" label=tu_string!(i18n, switch_transactional) on=transactional />
                <OptionalSwitch id="switch_promotional" label=tu_string!(i18n, switch_promotional) on=promotional />
            </fieldset>
            <fieldset class="space-y-3">
                <legend class="text-sm font-semibold">{tu_string!(i18n, email_by_workspace)}</legend>
                <p class="text-sm text-slate-600">{tu_string!(i18n, email_by_workspace_help)}</p>
                {workspaces.into_iter().map(|w| {
                    let on = RwSignal::new(!workspaces_off.with_untracked(|off| off.contains(&w)));
                    let name = w.clone();
                    Effect::new(move |_| {
                        let is_on = on.get();
                        workspaces_off.update(|off| {
                            if is_on { off.remove(&name); } else { off.insert(name.clone()); }
                        });
                    });
                    view! { <OptionalSwitch id=format!("switch_ws_{w}") label=workspace_label(i18n, &w) on /> }
                }).collect_view()}
            </fieldset>
            {move || save.value().get().and_then(|r| r.err()).map(|e| view! {
                <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{e.to_string()}</p>
            })}
            {move || (mode == FormMode::Preferences && matches!(save.value().get(), Some(Ok(_)))).then(|| view! {
                <p role="status" class="text-sm text-green-800">{tu_string!(i18n, saved)}</p>
            })}
            <button
                type="submit"
                disabled=move || save.pending().get()
                class="rounded-md bg-blue-700 px-4 py-2 font-medium text-white hover:bg-blue-800 disabled:bg-slate-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 focus-visible:ring-offset-2"
            >
                {move || if save.pending().get() { tu_string!(i18n, saving) } else { tu_string!(i18n, save) }}
            </button>
        </form>
    }
}

/// A switch that is always on, with the reason it cannot be turned off.
#[component]
fn LockedSwitch(id: &'static str, label: &'static str, reason: &'static str) -> impl IntoView {
    let help = format!("{id}_reason");
    view! {
        <div class="flex items-start gap-3">
            <input id=id type="checkbox" role="switch" checked disabled aria-describedby=help.clone()
                class="mt-1 h-5 w-5 accent-slate-500" />
            <div>
                <label for=id class="font-medium">{label}</label>
                <p id=help class="text-sm text-slate-600">{reason}</p>
            </div>
        </div>
    }
}

#[component]
fn OptionalSwitch(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    on: RwSignal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let help = format!("{id}_help");
    view! {
        <div class="flex items-start gap-3">
            <input id=id.clone() type="checkbox" role="switch" aria-describedby=help.clone()
                checked=on.get_untracked() on:change=move |ev| on.set(event_target_checked(&ev))
                class="mt-1 h-5 w-5 accent-blue-700" />
            <div>
                <label for=id class="font-medium">{label}</label>
                <p id=help class="text-sm text-slate-600">{tu_string!(i18n, optional_switch_help)}</p>
            </div>
        </div>
    }
}
