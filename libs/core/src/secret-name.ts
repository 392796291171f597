/** What a secret may be called; job specs and the secrets API check names the same way. */
export const SECRET_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
export const SECRET_NAME_RULE = '1-128 letters, digits, _ . or -, starting with a letter or _';
