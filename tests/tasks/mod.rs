mod mail;
mod purge_expired_tokens;
