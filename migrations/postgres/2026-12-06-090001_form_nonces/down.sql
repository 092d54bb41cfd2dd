DROP TABLE form_nonces;
