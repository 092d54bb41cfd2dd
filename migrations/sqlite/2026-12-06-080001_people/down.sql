DROP TABLE setup_codes;
DROP TABLE sessions;
DROP TABLE memberships;
DROP TABLE people;
