//! The English texts of the messages clients see; `assets/i18n/<lang>.json`
//! translates them.

pub const NOT_AUTHENTICATED: &str = "Not authenticated";
pub const INVALID_CREDENTIALS: &str = "Could not validate credentials";
pub const NOT_ENOUGH_PRIVILEGE: &str = "Current user do not have enough privilege";
pub const USER_NOT_FOUND: &str = "User not found";
pub const ITEM_NOT_FOUND: &str = "Item not found";
pub const SESSION_NOT_FOUND: &str = "Session not found";
pub const FILE_NOT_FOUND: &str = "File not found";
pub const FILE_TOO_LARGE: &str = "File too large";
pub const FILE_QUOTA_EXCEEDED: &str = "File storage quota exceeded";
pub const FILE_EMPTY: &str = "File is empty";
pub const FILE_UNREADABLE: &str = "The upload is not a readable multipart/form-data body";
pub const NOT_A_PICTURE: &str = "Profile pictures must be JPEG, PNG, WebP or GIF images";
pub const PICTURE_TOO_LARGE: &str = "Image dimensions are too large";
pub const EMAIL_TAKEN: &str = "The user with this email already exists in the system";
pub const INCORRECT_LOGIN: &str = "Incorrect email, password, or OTP";
pub const INVALID_CODE: &str = "Invalid or expired authentication code";
pub const INVALID_TOKEN: &str = "Invalid token";
pub const INCORRECT_PASSWORD: &str = "Incorrect password";
pub const SIGN_IN_AGAIN: &str = "This needs a recent sign-in: sign in again";
pub const TWO_FACTOR_ALREADY_ON: &str = "Two-factor sign-in is already on";
pub const TWO_FACTOR_NOT_SET_UP: &str = "Two-factor sign-in is not set up";
pub const PASSKEYS_OFF: &str = "Passkeys are not enabled on this server";
pub const PASSKEY_CEREMONY: &str = "Unknown or expired passkey ceremony: start again";
pub const PASSKEY_REFUSED: &str = "The passkey was not accepted";
pub const PASSKEY_NOT_FOUND: &str = "Passkey not found";
pub const WEAK_PASSWORD: &str = "Password is too common or too easy to guess";
pub const NO_APPLE_REVIEW_OTP: &str = "No Apple review team OTP found";
pub const INVALID_STATE: &str = "Invalid state";
pub const SSO_FAILED: &str = "Sign-in with the provider failed";
pub const SSO_NO_ANSWER: &str = "The provider did not answer, try again later";
pub const INVALID_ID_TOKEN: &str = "Invalid ID token";
pub const APPLE_REVOKE_FAILED: &str =
    "The account's Sign in with Apple could not be revoked; nothing was deleted, try again later";
pub const APPLE_OFF: &str = "Sign in with Apple is not enabled for this application";
pub const NO_PROVIDER_EMAIL: &str = "The provider did not share a verified email address";
pub const RETURN_URL_NOT_ALLOWED: &str = "return_url is not allowed";
pub const NOT_FOUND: &str = "Not Found";
pub const METHOD_NOT_ALLOWED: &str = "Method Not Allowed";
pub const REQUEST_TIMEOUT: &str = "Request timed out";
pub const PAYLOAD_TOO_LARGE: &str = "Request body too large";
pub const TOO_MANY_REQUESTS: &str = "Too many requests";
pub const CONFLICT: &str = "Conflict";
pub const UNSUPPORTED_LANGUAGE: &str = "Language not supported";
pub const INTERNAL: &str = "Internal Server Error";
pub const UNAVAILABLE: &str = "Service temporarily unavailable";
pub const DELETION_SCHEDULED: &str =
    "This account is scheduled for deletion; the link mailed to it cancels the deletion";
pub const EXPORT_PENDING: &str = "A data export is being prepared";
pub const EXPORT_NOT_FOUND: &str = "Data export not found";
pub const EXPORT_NOT_READY: &str = "The data export is not ready";
// inject-above: messages (cargo loco generate; keep this line)
