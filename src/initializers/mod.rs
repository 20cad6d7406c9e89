pub mod first_superuser;
