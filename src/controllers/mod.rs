pub mod apple_notifications;
pub mod auth;
pub mod data_rights;
pub mod docs;
pub mod extractors;
pub mod files;
pub mod items;
pub mod metrics;
pub mod monitoring;
pub mod native_sign_in;
pub mod otp;
pub mod passkeys;
pub mod password_recovery;
pub mod profile_pictures;
pub mod security_events;
pub mod sessions;
pub mod sso;
pub mod two_factor;
pub mod users;
pub mod utils;
pub mod well_known;
// inject-above: controller modules (cargo loco generate; keep this line)

use docs::ApiRoutes;

/// Every controller's routes.
#[must_use]
pub fn all() -> Vec<ApiRoutes> {
    vec![
        monitoring::routes(),
        auth::routes(),
        sessions::routes(),
        two_factor::routes(),
        passkeys::routes(),
        otp::routes(),
        password_recovery::routes(),
        sso::routes(),
        native_sign_in::routes(),
        apple_notifications::routes(),
        users::routes(),
        data_rights::routes(),
        profile_pictures::routes(),
        security_events::routes(),
        items::routes(),
        files::routes(),
        utils::routes(),
        well_known::routes(),
        // inject-above: routes (cargo loco generate; keep this line)
    ]
}
