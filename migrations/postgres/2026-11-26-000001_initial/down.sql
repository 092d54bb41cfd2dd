DROP TABLE server_state;
DROP TABLE audit_events;
DROP TABLE group_members;
DROP TABLE groups;
DROP TABLE user_emails;
DROP TABLE users;
DROP TABLE api_tokens;
DROP TABLE organizations;
