//! First-run setup and the basics of My preferences: job function, email language and
//! notification email, with what cannot be turned off explained.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use server_fn::ServerFn;

use super::item::workspace_label;
use crate::error::AppError;
use crate::i18n::*;
use crate::preferences::{
    EMAIL_LANGUAGES, Preferences, ResendVerification, SubmitPreferences, get_preferences,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormMode {
    /// First run: saving completes setup and opens the Action Center.
    Setup,
    Preferences,
}

#[component]
pub fn Setup() -> impl IntoView {
    let i18n = use_i18n();
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
            <super::schedule::ScheduleForm />
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

fn language_name(i18n: UiLanguage, tag: &str) -> String {
    match tag {
        "nl" => tu_string!(i18n, dutch).to_string(),
        "de" => tu_string!(i18n, german).to_string(),
        "fr" => tu_string!(i18n, french).to_string(),
        _ => tu_string!(i18n, english).to_string(),
    }
}

#[component]
fn PreferencesForm(mode: FormMode) -> impl IntoView {
    let prefs = super::page_resource(|| (), |_| get_preferences());
    view! {
        <Suspense fallback=|| ()>
            {move || prefs.get().map(|p| match p {
                Err(e) => view! { <p role="alert" class="mt-4 text-red-800">{super::error_text(use_i18n(), &e)}</p> }.into_any(),
                Ok(p) => view! { <PreferencesFields mode prefs=p /> }.into_any(),
            })}
        </Suspense>
    }
}

/// A settings form's text field or list.
pub(super) const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 focus:border-blue-600 focus:outline-none focus:ring-2 focus:ring-blue-600";

/// The form itself: it posts to `submit_preferences`. In the page the post goes through the
/// server function without leaving it (after setup, on to the Action Center); without the wasm
/// the server answers with the page again, saying it saved, or with the reason it did not in
/// the URL.
#[component]
fn PreferencesFields(mode: FormMode, prefs: Preferences) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map().get_untracked();
    let submit = ServerAction::<SubmitPreferences>::new();
    let resend = RwSignal::new(None::<Result<(), AppError>>);
    // What the server has now: the verification state follows each save.
    let current = RwSignal::new(prefs.clone());
    let posted_refusal = super::refusal::<SubmitPreferences>().or_else(super::refusal::<ResendVerification>);
    let saved_by_post = use_query_map().get_untracked().get("saved").is_some() && posted_refusal.is_none();
    let refused = move || {
        submit
            .value()
            .with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned()))
            .or_else(|| resend.with(|r| r.as_ref().and_then(|r| r.as_ref().err().cloned())))
            .or_else(|| posted_refusal.clone())
    };
    let saved = move || {
        mode == FormMode::Preferences
            && match submit.value().get() {
                Some(answer) => answer.is_ok(),
                None => saved_by_post,
            }
    };
    let sent_by_post = query.get("sent").is_some() && super::refusal::<ResendVerification>().is_none();
    let sent = move || resend.with(|r| matches!(r, Some(Ok(())))) || sent_by_post;
    let navigate = leptos_router::hooks::use_navigate();
    let user = use_context::<super::SignedInUser>();
    Effect::new(move |_| {
        let Some(Ok(saved)) = submit.value().get() else {
            return;
        };
        current.set(saved);
        if mode == FormMode::Setup {
            // The header and the Action Center's guard see the finished setup first.
            let navigate = navigate.clone();
            leptos::task::spawn_local(async move {
                if let (Some(signed_in), Ok(fresh)) = (user, crate::auth::get_current_user().await) {
                    signed_in.0.update(|frame| {
                        if let Some(Ok(frame)) = frame {
                            frame.user = fresh;
                        }
                    });
                }
                navigate("/action-center", Default::default());
            });
        }
    });
    let on_resend = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        resend.set(None);
        leptos::task::spawn_local(async move {
            resend.set(Some(crate::preferences::resend_verification().await));
        });
    };
    let verified = move || current.with(|p| p.notification_email_verified);
    let help = move || {
        current.with(|p| match p.notification_email_verified {
            true => tu_string!(i18n, notification_email_help).to_string(),
            false => format!(
                "{} {}. {} {}.",
                tu_string!(i18n, verification_pending_prefix),
                p.notification_email,
                tu_string!(i18n, verification_pending_suffix),
                p.sign_in_email
            ),
        })
    };
    let language = prefs.email_language.clone();
    let off = prefs.email.workspaces_off.clone();
    view! {
        // The resend button sits in the form below but submits this one (forms do not nest).
        <form id="resend-verification" method="post" action=ResendVerification::url() on:submit=on_resend></form>
        <ActionForm action=submit attr:class="mt-6 space-y-6">
            {(mode == FormMode::Setup).then(|| view! { <input type="hidden" name="setup" value="1" /> })}
            <div>
                <label for="job_function" class="block text-sm font-medium">{tu_string!(i18n, job_function)}</label>
                <input id="job_function" name="job_function" type="text" maxlength="100" class=INPUT value=prefs.job_function.clone() />
            </div>
            <div>
                <label for="email_language" class="block text-sm font-medium">{tu_string!(i18n, email_language)}</label>
                <select id="email_language" name="email_language" class=INPUT>
                    {EMAIL_LANGUAGES
                        .into_iter()
                        .map(|tag| view! { <option value=tag selected=language == tag>{language_name(i18n, tag)}</option> })
                        .collect_view()}
                </select>
            </div>
            <div>
                <label for="notification_email" class="block text-sm font-medium">{tu_string!(i18n, notification_email)}</label>
                <input id="notification_email" name="notification_email" type="email" required maxlength="254" pattern=super::EMAIL_PATTERN class=INPUT
                    aria-describedby="notification_email_help" value=prefs.notification_email.clone() />
                <div id="notification_email_help" class="mt-1 text-sm text-slate-600">
                    <span data-testid="verification" class=move || if verified() { "font-medium text-green-800" } else { "font-medium text-amber-800" }>
                        {move || if verified() { tu_string!(i18n, verified) } else { tu_string!(i18n, unverified) }}
                    </span>
                    " · "
                    {help}
                </div>
                <button type="submit" form="resend-verification" hidden=verified
                    class="mt-2 rounded-md border border-blue-700 px-3 py-1.5 text-sm font-medium text-blue-800 hover:bg-blue-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600">
                    {tu_string!(i18n, send_verification)}
                </button>
                <p role="status" class="mt-1 text-sm text-green-800">{move || sent().then(|| tu_string!(i18n, verification_sent))}</p>
            </div>
            <fieldset class="space-y-3">
                <legend class="text-sm font-semibold">{tu_string!(i18n, email_by_category)}</legend>
                <LockedSwitch id="switch_in_app" label=tu_string!(i18n, switch_in_app) reason=tu_string!(i18n, lock_in_app) />
                <LockedSwitch id="switch_mandatory" label=tu_string!(i18n, switch_mandatory) reason=tu_string!(i18n, lock_action_email) />
                <LockedSwitch id="switch_recommended" label=tu_string!(i18n, switch_recommended) reason=tu_string!(i18n, lock_action_email) />
                <OptionalSwitch id="switch_transactional" name="transactional" label=tu_string!(i18n, switch_transactional) on=prefs.email.transactional />
                <OptionalSwitch id="switch_promotional" name="promotional" label=tu_string!(i18n, switch_promotional) on=prefs.email.promotional />
            </fieldset>
            <fieldset class="space-y-3">
                <legend class="text-sm font-semibold">{tu_string!(i18n, email_by_workspace)}</legend>
                <p class="text-sm text-slate-600">{tu_string!(i18n, email_by_workspace_help)}</p>
                {prefs.workspaces.iter().map(|w| view! {
                    <OptionalSwitch id=format!("switch_ws_{w}") name=format!("workspaces[{w}]") label=workspace_label(i18n, w) on=!off.contains(w) />
                }).collect_view()}
            </fieldset>
            <FormEnd refused=Signal::derive(refused) saved=Signal::derive(saved) label=tu_string!(i18n, save) />
        </ActionForm>
    }
}

/// The end of a settings form: why the server refused it, that it saved, and its button.
#[component]
pub(super) fn FormEnd(
    refused: Signal<Option<AppError>>,
    saved: Signal<bool>,
    label: &'static str,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        {move || refused.get().map(|e| view! {
            <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{super::error_text(i18n, &e)}</p>
        })}
        <p role="status" class="text-sm text-green-800">{move || saved.get().then(|| tu_string!(i18n, saved))}</p>
        <button
            type="submit"
            class="rounded-md bg-blue-700 px-4 py-2 font-medium text-white hover:bg-blue-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 focus-visible:ring-offset-2"
        >
            {label}
        </button>
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

/// A switch the user may turn off; the form sends `name=on` while it is on.
#[component]
fn OptionalSwitch(
    #[prop(into)] id: String,
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    on: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let help = format!("{id}_help");
    view! {
        <div class="flex items-start gap-3">
            <input id=id.clone() name=name type="checkbox" role="switch" value="on" aria-describedby=help.clone()
                checked=on class="mt-1 h-5 w-5 accent-blue-700" />
            <div>
                <label for=id class="font-medium">{label}</label>
                <p id=help class="text-sm text-slate-600">{tu_string!(i18n, optional_switch_help)}</p>
            </div>
        </div>
    }
}
