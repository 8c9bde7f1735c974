//! First-run setup and the basics of My preferences: job function, email language and
//! notification email, with what cannot be turned off explained.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::i18n::*;
use crate::preferences::{EMAIL_LANGUAGES, SavePreferences, get_preferences};
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
            <h1 class="text-2xl font-semibold">{t!(i18n, setup_title)}</h1>
            <p class="mt-1 text-slate-700">{t!(i18n, setup_intro)}</p>
            <PreferencesForm mode=FormMode::Setup />
        </section>
    }
}

#[component]
pub fn PreferencesPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="mx-auto max-w-xl rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h1 class="text-2xl font-semibold">{t!(i18n, preferences_title)}</h1>
            <PreferencesForm mode=FormMode::Preferences />
        </section>
    }
}

fn language_name(i18n: I18nContext<Locale>, tag: &str) -> String {
    match tag {
        "nl" => t_string!(i18n, dutch).to_string(),
        "de" => t_string!(i18n, german).to_string(),
        "fr" => t_string!(i18n, french).to_string(),
        _ => t_string!(i18n, english).to_string(),
    }
}

#[component]
fn PreferencesForm(mode: FormMode) -> impl IntoView {
    let i18n = use_i18n();
    let prefs = Resource::new(|| (), |_| get_preferences());
    let save = ServerAction::<SavePreferences>::new();
    let saved = move || save.value().get().and_then(|r| r.ok());
    // After setup the whole page reloads, so every part of it sees the completed setup.
    Effect::new(move |_| {
        if mode == FormMode::Setup && saved().is_some() {
            #[cfg(feature = "hydrate")]
            {
                let _ = window().location().set_href("/action-center");
            }
        }
    });
    let input = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 focus:border-blue-600 focus:outline-none focus:ring-2 focus:ring-blue-600";
    view! {
        <Suspense fallback=move || view! { <p class="mt-4">{t!(i18n, loading)}</p> }>
            {move || prefs.get().map(|p| match p {
                Err(e) => view! { <p role="alert" class="mt-4 text-red-800">{e.to_string()}</p> }.into_any(),
                Ok(p) => {
                    let p = saved().unwrap_or(p);
                    let verified = p.notification_email_verified;
                    let language = p.email_language.clone();
                    view! {
                        <ActionForm action=save attr:class="mt-6 space-y-5">
                            <div>
                                <label for="job_function" class="block text-sm font-medium">{t!(i18n, job_function)}</label>
                                <input id="job_function" name="job_function" type="text" maxlength="100" value=p.job_function.clone() class=input />
                            </div>
                            <div>
                                <label for="email_language" class="block text-sm font-medium">{t!(i18n, email_language)}</label>
                                <select id="email_language" name="email_language" class=input>
                                    {EMAIL_LANGUAGES
                                        .into_iter()
                                        .map(|tag| view! { <option value=tag selected=language == tag>{language_name(i18n, tag)}</option> })
                                        .collect_view()}
                                </select>
                            </div>
                            <div>
                                <label for="notification_email" class="block text-sm font-medium">{t!(i18n, notification_email)}</label>
                                <input
                                    id="notification_email"
                                    name="notification_email"
                                    type="email"
                                    required
                                    value=p.notification_email.clone()
                                    aria-describedby="notification_email_help"
                                    class=input
                                />
                                <p id="notification_email_help" class="mt-1 text-sm text-slate-600">
                                    <span data-testid="verification" class=if verified { "font-medium text-green-800" } else { "font-medium text-amber-800" }>
                                        {if verified { t_string!(i18n, verified) } else { t_string!(i18n, unverified) }}
                                    </span>
                                    " · "
                                    {t!(i18n, notification_email_help)}
                                </p>
                            </div>
                            <div class="rounded-md bg-slate-50 p-4 text-sm text-slate-700">
                                <h2 class="font-semibold text-slate-900">{t!(i18n, required_email_title)}</h2>
                                <p class="mt-1">{t!(i18n, required_email_body)}</p>
                                <p class="mt-1">{t!(i18n, optional_email_body)}</p>
                            </div>
                            {move || save.value().get().and_then(|r| r.err()).map(|e| view! {
                                <p role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{e.to_string()}</p>
                            })}
                            {move || (mode == FormMode::Preferences && saved().is_some()).then(|| view! {
                                <p role="status" class="text-sm text-green-800">{t!(i18n, saved)}</p>
                            })}
                            <button
                                type="submit"
                                disabled=move || save.pending().get()
                                class="rounded-md bg-blue-700 px-4 py-2 font-medium text-white hover:bg-blue-800 disabled:bg-slate-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 focus-visible:ring-offset-2"
                            >
                                {move || if save.pending().get() { t_string!(i18n, saving) } else { t_string!(i18n, save) }}
                            </button>
                        </ActionForm>
                    }
                    .into_any()
                }
            })}
        </Suspense>
    }
}
