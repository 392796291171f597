import { InvalidArgumentError, NAME_PATTERN, NAME_RULE } from '@danube/core';

/** How long finished jobs are kept, and how much of their output. */
export interface RetentionRule {
  /** Days a finished job is kept, with its attempts, logs, events and artifacts. */
  keepDays: number;
  /** Days failed and timed-out jobs (and failed workflows) are kept instead; null: keepDays. */
  keepFailedDays: number | null;
  /** Most bytes of output kept per attempt of a finished job; null: all of it. */
  maxLogBytesPerAttempt: number | null;
}

export interface TopicRetentionRule extends RetentionRule {
  topic: string;
}

/**
 * A tenant's policy as it is set: its default (null: the built-in one) and its per-topic
 * overrides. An override is whole: it inherits nothing from the default. Workflows, nodes
 * included, follow the default: a workflow is deleted as one.
 */
export interface RetentionPolicy {
  default: RetentionRule | null;
  topics: TopicRetentionRule[];
}

/** A tenant's policy as it applies: the default filled in with the built-in one if unset. */
export interface EffectiveRetentionPolicy {
  tenant: string;
  default: RetentionRule & { builtIn: boolean };
  topics: TopicRetentionRule[];
}

export const MIN_KEEP_DAYS = 1;
export const MAX_KEEP_DAYS = 36_500;
/** A smaller cap would leave too little of an attempt's output to tell what it did. */
export const MIN_LOG_BYTES_PER_ATTEMPT = 1024;
export const MAX_LOG_BYTES_PER_ATTEMPT = 2 ** 40;
export const MAX_TOPIC_RULES = 1000;

/** The built-in rule: keep finished jobs `days` days, failed ones too, and all their output. */
export function builtInRule(days: number): RetentionRule {
  return { keepDays: days, keepFailedDays: null, maxLogBytesPerAttempt: null };
}

/**
 * Checks what a request's shape cannot: failed jobs kept at least as long as the others,
 * one override per topic, and every bound (for callers other than the REST API). Errors
 * name the field as the request does: `default.keepFailedDays`, `topics.2.topic`.
 */
export function checkRetentionPolicy(policy: RetentionPolicy): RetentionPolicy {
  if (policy.default) checkRule(policy.default, 'default');
  if (policy.topics.length > MAX_TOPIC_RULES) {
    throw invalid('topics', `holds ${policy.topics.length} rules; at most ${MAX_TOPIC_RULES}`);
  }
  const seen = new Map<string, number>();
  policy.topics.forEach((rule, index) => {
    const field = `topics.${index}`;
    if (typeof rule.topic !== 'string' || !NAME_PATTERN.test(rule.topic)) {
      throw invalid(`${field}.topic`, `must be ${NAME_RULE}`);
    }
    const earlier = seen.get(rule.topic);
    if (earlier !== undefined) {
      throw invalid(
        `${field}.topic`,
        `repeats topic ${JSON.stringify(rule.topic)} of topics.${earlier}; give each topic one rule`,
      );
    }
    seen.set(rule.topic, index);
    checkRule(rule, field);
  });
  return policy;
}

function checkRule(rule: RetentionRule, field: string): void {
  const days = (name: 'keepDays' | 'keepFailedDays', value: number) => {
    if (!Number.isInteger(value) || value < MIN_KEEP_DAYS || value > MAX_KEEP_DAYS) {
      throw invalid(
        `${field}.${name}`,
        `must be a whole number of days from ${MIN_KEEP_DAYS} to ${MAX_KEEP_DAYS}`,
      );
    }
  };
  days('keepDays', rule.keepDays);
  if (rule.keepFailedDays !== null) {
    days('keepFailedDays', rule.keepFailedDays);
    if (rule.keepFailedDays < rule.keepDays) {
      throw invalid(
        `${field}.keepFailedDays`,
        `(${rule.keepFailedDays}) must be at least ${field}.keepDays (${rule.keepDays}): it keeps failed jobs longer, not shorter; leave it out to keep them as long`,
      );
    }
  }
  const cap = rule.maxLogBytesPerAttempt;
  if (
    cap !== null &&
    (!Number.isSafeInteger(cap) ||
      cap < MIN_LOG_BYTES_PER_ATTEMPT ||
      cap > MAX_LOG_BYTES_PER_ATTEMPT)
  ) {
    throw invalid(
      `${field}.maxLogBytesPerAttempt`,
      `must be a whole number of bytes from ${MIN_LOG_BYTES_PER_ATTEMPT} to ${MAX_LOG_BYTES_PER_ATTEMPT}, or null for no cap`,
    );
  }
}

function invalid(field: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`${field} ${why}`, { field });
}
