mod code_budgets;
mod file_deletions;
mod files;
mod items;
mod legacy_passwords;
mod sessions;
mod users;
