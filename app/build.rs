//! `sqlx::migrate!` and `leptos_i18n::load_locales!` read files at compile time; without this,
//! cargo would not rebuild the crate when a migration or a locale file is added.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=locales");
}
