mod mail;
mod purge_expired_tokens;
mod user_disable_2fa;
