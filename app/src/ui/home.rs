use leptos::prelude::*;

use crate::auth::CurrentUser;
use crate::error::AppError;

/// The start page of a signed-in user (the server sends anonymous visitors to sign-in).
#[component]
pub fn Home(user: Resource<Result<Option<CurrentUser>, AppError>>) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                user.get().map(|u| match u {
                    Ok(Some(u)) => {
                        let roles = if u.roles.is_empty() {
                            "No role has been granted to you yet.".to_string()
                        } else {
                            format!("Your roles: {}", u.roles.join(", "))
                        };
                        view! {
                            <section class="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
                                <h1 class="text-2xl font-semibold">{format!("Welcome, {}", u.display_name)}</h1>
                                <p class="mt-2 text-slate-700">{format!("Organisation: {}", u.org_name)}</p>
                                <p class="mt-1 text-slate-700">{roles}</p>
                            </section>
                        }
                            .into_any()
                    }
                    Ok(None) => view! { <p><a class="text-blue-700 underline" href="/sign-in">"Sign in"</a></p> }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-red-700">{e.to_string()}</p> }.into_any(),
                })
            }}
        </Suspense>
    }
}
