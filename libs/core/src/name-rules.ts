/**
 * What topics (and schedules) may be called; jobs, retention rules and schedules check
 * names the same way.
 */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
export const NAME_RULE = '1-128 letters, digits, or _ . : -, starting with a letter or digit';
