mod templates;
