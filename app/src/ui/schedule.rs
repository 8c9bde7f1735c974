//! My preferences' "When email arrives": the time zone, quiet hours, and immediate or digest
//! email per optional category. A form posting to `save_email_schedule`, in the page through
//! the server function.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::setup::INPUT;
use crate::i18n::*;
use crate::preferences::schedule::{SAVED_QUERY, SCHEDULE_FORM};
use crate::preferences::{Cadence, EmailSchedule, SaveEmailSchedule, get_email_schedule};

#[component]
pub fn ScheduleForm() -> impl IntoView {
    let choices = super::page_resource(|| (), |_| get_email_schedule());
    view! {
        <Suspense fallback=|| ()>
            {move || choices.get().map(|c| match c {
                Err(e) => view! { <p role="alert" class="mt-4 text-red-800">{super::error_text(use_i18n(), &e)}</p> }.into_any(),
                Ok(c) => view! { <ScheduleFields schedule=c.schedule chosen=c.chosen time_zones=c.time_zones /> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn ScheduleFields(schedule: EmailSchedule, chosen: bool, time_zones: Vec<String>) -> impl IntoView {
    let i18n = use_i18n();
    // Someone who never chose starts from the zone their browser is in (once the page runs).
    let zone_list = NodeRef::<leptos::html::Select>::new();
    if !chosen {
        Effect::new(move |_| {
            if let Some(select) = zone_list.get() {
                browser_zone(&select);
            }
        });
    }
    let save = ServerAction::<SaveEmailSchedule>::new();
    let posted_refusal = super::refusal::<SaveEmailSchedule>();
    let saved_by_post =
        use_query_map().get_untracked().get(SAVED_QUERY).is_some() && posted_refusal.is_none();
    let refused = move || {
        save.value()
            .with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned()))
            .or_else(|| posted_refusal.clone())
    };
    let saved = move || match save.value().get() {
        Some(answer) => answer.is_ok(),
        None => saved_by_post,
    };
    let hours = move |name: &'static str, label: &'static str, chosen: Option<u8>| {
        let id = format!("schedule_{name}");
        view! {
            <div>
                <label for=id.clone() class="block text-sm font-medium">{label}</label>
                <select id=id name=name class=INPUT>
                    <option value="" selected=chosen.is_none()>{tu_string!(i18n, quiet_none)}</option>
                    {(0..24u8)
                        .map(|h| view! { <option value=h.to_string() selected=chosen == Some(h)>{format!("{h:02}:00")}</option> })
                        .collect_view()}
                </select>
            </div>
        }
    };
    let cadence = move |name: &'static str, label: &'static str, chosen: Cadence| {
        let id = format!("schedule_{name}");
        view! {
            <div>
                <label for=id.clone() class="block text-sm font-medium">{label}</label>
                <select id=id name=name class=INPUT>
                    {Cadence::ALL
                        .into_iter()
                        .map(|c| {
                            let text = match c {
                                Cadence::Immediate => tu_string!(i18n, cadence_immediate),
                                Cadence::Daily => tu_string!(i18n, cadence_daily),
                                Cadence::Weekly => tu_string!(i18n, cadence_weekly),
                            };
                            view! { <option value=c.as_str() selected=chosen == c>{text}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
        }
    };
    let zone = schedule.time_zone.clone();
    view! {
        <section id=SCHEDULE_FORM aria-labelledby="schedule-heading" class="mt-8 border-t border-slate-200 pt-6">
            <h2 id="schedule-heading" class="text-lg font-semibold">{tu_string!(i18n, schedule_heading)}</h2>
            <ActionForm action=save attr:class="mt-4 space-y-4">
                <div>
                    <label for="schedule_time_zone" class="block text-sm font-medium">{tu_string!(i18n, time_zone)}</label>
                    <select id="schedule_time_zone" name="time_zone" class=INPUT node_ref=zone_list>
                        {time_zones
                            .into_iter()
                            .map(|tz| {
                                let chosen = tz == zone;
                                let label = tz.clone();
                                view! { <option value=tz selected=chosen>{label}</option> }
                            })
                            .collect_view()}
                    </select>
                </div>
                <fieldset>
                    <legend class="text-sm font-semibold">{tu_string!(i18n, quiet_hours)}</legend>
                    <p id="quiet_hint" class="text-sm text-slate-600">{tu_string!(i18n, quiet_hint)}</p>
                    <div class="mt-2 grid grid-cols-2 gap-3">
                        {hours("quiet_from", tu_string!(i18n, quiet_from), schedule.quiet_from)}
                        {hours("quiet_to", tu_string!(i18n, quiet_to), schedule.quiet_to)}
                    </div>
                </fieldset>
                <fieldset class="space-y-3">
                    <legend class="text-sm font-semibold">{tu_string!(i18n, email_by_category)}</legend>
                    <p class="text-sm text-slate-600">{tu_string!(i18n, cadence_hint)}</p>
                    {cadence("transactional", tu_string!(i18n, cadence_transactional), schedule.transactional)}
                    {cadence("promotional", tu_string!(i18n, cadence_promotional), schedule.promotional)}
                </fieldset>
                <super::setup::FormEnd
                    refused=Signal::derive(refused)
                    saved=Signal::derive(saved)
                    label=tu_string!(i18n, save_schedule)
                />
            </ActionForm>
        </section>
    }
}

/// Chooses the browser's time zone in the list, when the list has it.
fn browser_zone(select: &leptos::web_sys::HtmlSelectElement) {
    #[cfg(feature = "hydrate")]
    {
        let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
            .resolved_options();
        let zone = js_sys::Reflect::get(&options, &"timeZone".into())
            .ok()
            .and_then(|z| z.as_string());
        let listed = |zone: &str| {
            (0..select.length()).any(|i| {
                select
                    .item(i)
                    .is_some_and(|o| o.get_attribute("value").as_deref() == Some(zone))
            })
        };
        if let Some(zone) = zone.filter(|z| listed(z)) {
            select.set_value(&zone);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = select;
}
