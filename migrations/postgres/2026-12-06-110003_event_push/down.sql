DROP INDEX api_tokens_expires_idx;
DROP TABLE token_notices;
