//! What each sign-in provider needs and says: the scopes to ask for, the
//! authorization-code exchange (with PKCE; Apple's, with a nonce, is in
//! `apple`), and the profile, read into one shape.

use tracing::Instrument;

use super::outgoing;
use std::{future::Future, pin::Pin};

use oauth2::{
    AsyncHttpClient, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    HttpClientError, HttpRequest, HttpResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, TokenResponse, TokenUrl, basic::BasicClient,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use super::{
    _entities::sea_orm_active_enums::Provider,
    email::Email,
    id_tokens::{IdClaims, truthy},
};

/// One provider's OAuth2 client and endpoints (`settings.sso.<provider>`); it
/// is on when its client id and secret are set.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderConfig {
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    pub auth_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    /// How long one call to the provider may take.
    #[serde(default = "ProviderConfig::default_timeout_seconds")]
    pub timeout_seconds: u64,
}

impl ProviderConfig {
    const fn default_timeout_seconds() -> u64 {
        15
    }

    #[must_use]
    pub fn enabled(&self) -> bool {
        let set = |value: Option<&str>| value.is_some_and(|value| !value.trim().is_empty());
        set(self.client_id.as_deref())
            && set(self.client_secret.as_ref().map(ExposeSecret::expose_secret))
    }

    fn client_id(&self) -> ClientId {
        ClientId::new(self.client_id.clone().unwrap_or_default())
    }
}

/// What a provider says of its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderProfile {
    pub id: String,
    /// Apple sends it at the first sign-in only; it is needed to make an
    /// account, not to find one.
    pub email: Option<Email>,
    /// Whether the provider says it checked that the user owns `email`.
    /// Facebook does not say: its addresses count as unchecked.
    pub email_verified: bool,
    pub first_name: String,
    pub last_name: String,
}

/// A profile as read, before its email is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Profile {
    id: String,
    email: String,
    first_name: String,
    last_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("no sign-in was started with this state, or it expired")]
    InvalidState,
    #[error("invalid provider URL: {0}")]
    Url(String),
    #[error("the provider refused the code: {0}")]
    Exchange(String),
    #[error("the provider's profile could not be read: {0}")]
    Profile(String),
    #[error("the provider did not share an email address")]
    NoEmail,
    #[error("the provider did not answer: {0}")]
    NoAnswer(String),
    #[error(transparent)]
    Model(#[from] loco_rs::model::ModelError),
}

const fn scopes(provider: Provider) -> &'static [&'static str] {
    match provider {
        Provider::Google => &["openid", "email", "profile"],
        Provider::Github => &["read:user", "user:email"],
        Provider::Facebook => &["email", "public_profile"],
        Provider::Apple => &["name", "email"],
        Provider::Email => &[],
    }
}

/// A sign-in to start: where to send the user, and what to keep until they
/// come back.
#[derive(Clone)]
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub pkce_verifier: String,
    /// What Apple's ID token is to carry back.
    pub nonce: Option<String>,
}

/// The provider's consent page for this app, with a fresh CSRF state and a PKCE
/// challenge (S256); for Apple, a nonce instead, and the answer posted back as
/// a form (which Apple requires when it is asked for the name or email).
///
/// # Errors
/// When a configured URL is not one.
pub fn authorize(
    provider: Provider,
    settings: &ProviderConfig,
    callback_url: &str,
) -> Result<Authorization, SsoError> {
    let url_error = |error: oauth2::url::ParseError| SsoError::Url(error.to_string());
    let client = BasicClient::new(settings.client_id())
        .set_auth_uri(AuthUrl::new(settings.auth_url.clone()).map_err(url_error)?)
        .set_redirect_uri(RedirectUrl::new(callback_url.to_string()).map_err(url_error)?);
    let mut request = client.authorize_url(CsrfToken::new_random);
    for scope in scopes(provider) {
        request = request.add_scope(Scope::new((*scope).to_string()));
    }
    let (nonce, pkce_verifier) = if provider == Provider::Apple {
        let nonce = CsrfToken::new_random().secret().clone();
        request = request
            .add_extra_param("response_mode", "form_post")
            .add_extra_param("nonce", nonce.clone());
        (Some(nonce), String::new())
    } else {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        request = request.set_pkce_challenge(challenge);
        (None, verifier.secret().clone())
    };
    let (url, state) = request.url();
    Ok(Authorization {
        url: url.to_string(),
        state: state.secret().clone(),
        pkce_verifier,
        nonce,
    })
}

/// Trades the code for an access token, then reads the user's profile.
///
/// # Errors
/// When the provider refuses the code or its profile lacks an id or email.
pub async fn exchange(
    provider: Provider,
    settings: &ProviderConfig,
    callback_url: &str,
    code: &str,
    pkce_verifier: &str,
) -> Result<ProviderProfile, SsoError> {
    let url_error = |error: oauth2::url::ParseError| SsoError::Url(error.to_string());
    let client = BasicClient::new(settings.client_id())
        .set_client_secret(ClientSecret::new(
            settings
                .client_secret
                .as_ref()
                .map(|secret| secret.expose_secret().to_string())
                .unwrap_or_default(),
        ))
        .set_auth_uri(AuthUrl::new(settings.auth_url.clone()).map_err(url_error)?)
        .set_token_uri(TokenUrl::new(settings.token_url.clone()).map_err(url_error)?)
        .set_redirect_uri(RedirectUrl::new(callback_url.to_string()).map_err(url_error)?);
    let http = http_client(settings.timeout_seconds)
        .map_err(|error| SsoError::Exchange(error.to_string()))?;
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
        .request_async(&OauthHttp(&http))
        .await
        .map_err(|error| match &error {
            RequestTokenError::Request(HttpClientError::Reqwest(cause)) if no_answer(cause) => {
                SsoError::NoAnswer(cause.to_string())
            }
            _ => SsoError::Exchange(error.to_string()),
        })?;
    let access_token = token.access_token().secret();
    let profile = get_json(&http, &settings.userinfo_url, access_token).await?;
    let mut profile = read_profile(provider, &profile)?;
    if provider == Provider::Github {
        // `/user` shows the public email, which GitHub does not check;
        // `/user/emails` says which one is the verified primary.
        let emails = get_json(
            &http,
            &format!("{}/emails", settings.userinfo_url),
            access_token,
        )
        .await?;
        profile.email = github_primary_email(&emails).unwrap_or_default();
    }
    Ok(ProviderProfile {
        email: Some(Email::parse(&profile.email).map_err(|_| SsoError::NoEmail)?),
        email_verified: provider != Provider::Facebook,
        id: profile.id,
        first_name: profile.first_name,
        last_name: profile.last_name,
    })
}

/// The client of calls to providers. No redirects: a provider's endpoint that
/// redirects is not to be followed (SSRF). A provider that hangs must not hold
/// the request until its own timeout.
///
/// # Errors
/// When the TLS set-up fails.
pub fn http_client(timeout_seconds: u64) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(timeout_seconds))
        .user_agent(concat!(
            env!("CARGO_PKG_NAME"),
            "/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
}

/// The profile an ID token (Google's or Apple's) gives: its subject, its
/// email when the provider says it checked it, and the names, from the token
/// or, for Apple, from what the first sign-in sent beside it.
#[must_use]
pub fn profile_of(claims: &IdClaims, names: Option<(String, String)>) -> ProviderProfile {
    let verified = truthy(claims.email_verified.as_ref());
    let (first_name, last_name) = names.unwrap_or_else(|| {
        (
            claims.given_name.clone().unwrap_or_default(),
            claims.family_name.clone().unwrap_or_default(),
        )
    });
    ProviderProfile {
        id: claims.sub.clone(),
        email: claims
            .email
            .as_deref()
            .filter(|_| verified)
            .and_then(|email| Email::parse(email).ok()),
        email_verified: verified,
        first_name,
        last_name,
    }
}

/// oauth2's HTTP client, over this app's reqwest.
struct OauthHttp<'a>(&'a reqwest::Client);

impl<'c> AsyncHttpClient<'c> for OauthHttp<'_> {
    type Error = HttpClientError<reqwest::Error>;
    type Future =
        Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + Sync + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        let call = outgoing::call(request.method().as_str(), &request.uri().to_string());
        Box::pin(async move {
            let response = self
                .0
                .execute(request.try_into().map_err(Box::new)?)
                .instrument(call)
                .await
                .map_err(Box::new)?;
            let mut answer = oauth2::http::Response::builder()
                .status(response.status())
                .version(response.version());
            if let Some(headers) = answer.headers_mut() {
                headers.extend(response.headers().clone());
            }
            let body = response.bytes().await.map_err(Box::new)?;
            Ok(answer.body(body.to_vec())?)
        })
    }
}

/// The provider timed out or could not be reached: not the caller's fault.
fn no_answer(error: &reqwest::Error) -> bool {
    error.is_timeout() || error.is_connect()
}

async fn get_json(
    http: &reqwest::Client,
    url: &str,
    access_token: &str,
) -> Result<Value, SsoError> {
    let profile_error = |error: reqwest::Error| {
        if no_answer(&error) {
            SsoError::NoAnswer(error.to_string())
        } else {
            SsoError::Profile(error.to_string())
        }
    };
    http.get(url)
        .bearer_auth(access_token)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .instrument(outgoing::call("GET", url))
        .await
        .map_err(profile_error)?
        .error_for_status()
        .map_err(profile_error)?
        .json()
        .await
        .map_err(profile_error)
}

fn text(value: &Value, field: &str) -> String {
    match &value[field] {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        _ => String::new(),
    }
}

/// The provider's profile in one shape: id, email, first and last name.
///
/// # Errors
/// When the profile has no id.
fn read_profile(provider: Provider, profile: &Value) -> Result<Profile, SsoError> {
    let (id, first_name, last_name) = match provider {
        Provider::Google => (
            text(profile, "sub"),
            text(profile, "given_name"),
            text(profile, "family_name"),
        ),
        Provider::Github => {
            let name = text(profile, "name");
            let (first, last) = name.split_once(' ').unwrap_or((name.as_str(), ""));
            (text(profile, "id"), first.to_string(), last.to_string())
        }
        Provider::Facebook | Provider::Apple | Provider::Email => (
            text(profile, "id"),
            text(profile, "first_name"),
            text(profile, "last_name"),
        ),
    };
    if id.is_empty() {
        return Err(SsoError::Profile("no user id".to_string()));
    }
    // Google says whether it checked the address; an unchecked one proves
    // nothing. GitHub's comes from `/user/emails`, verified.
    let unverified = (provider == Provider::Google
        && profile["email_verified"] == Value::Bool(false))
        || provider == Provider::Github;
    Ok(Profile {
        id,
        email: if unverified {
            String::new()
        } else {
            text(profile, "email")
        },
        first_name,
        last_name,
    })
}

/// GitHub hides the email of some users from `/user`; `/user/emails` has it.
fn github_primary_email(emails: &Value) -> Option<String> {
    emails.as_array()?.iter().find_map(|entry| {
        let usable =
            entry["primary"].as_bool() == Some(true) && entry["verified"].as_bool() == Some(true);
        usable.then(|| text(entry, "email"))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_each_providers_profile() {
        let google = read_profile(
            Provider::Google,
            &json!({ "sub": "g1", "email": "a@example.com", "given_name": "Ann", "family_name": "Lee" }),
        )
        .expect("google");
        assert_eq!(
            (google.id.as_str(), google.first_name.as_str()),
            ("g1", "Ann")
        );
        let github = read_profile(
            Provider::Github,
            &json!({ "id": 42, "email": null, "name": "Linus Benedict Torvalds" }),
        )
        .expect("github");
        assert_eq!(github.id, "42");
        assert_eq!(
            (github.first_name.as_str(), github.last_name.as_str()),
            ("Linus", "Benedict Torvalds")
        );
        assert_eq!(github.email, "");
        assert!(read_profile(Provider::Facebook, &json!({ "email": "x@example.com" })).is_err());
    }

    #[test]
    fn github_emails_give_the_primary_verified_one() {
        let emails = json!([
            { "email": "old@example.com", "primary": false, "verified": true },
            { "email": "main@example.com", "primary": true, "verified": true },
        ]);
        assert_eq!(
            github_primary_email(&emails).as_deref(),
            Some("main@example.com")
        );
    }
}
