/**
 * The stored status's times, as far as this sync's clock lets them count. The core counts waits from them
 * (the ConfigMap's grace from configSince and configBehind.since; the Reconciling deadline and the backoff
 * for a missing child from the conditions' lastTransitionTime) and compares changes by lastChange.time. A
 * time ahead of the clock (a status edited by hand; a hook replica whose clock ran ahead, then was set back)
 * would hold such a wait off, and win every comparison, for as long as it stays ahead: it is dropped, and what
 * counts from it starts now, as for a status that lacks it. A few minutes ahead is another hook replica whose
 * clock runs ahead of this one's, and counts.
 */
import type { MemcachedProxy } from '../api/memcached-proxy.js';

/** How far another hook replica's clock may run ahead of this one's. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** Whether an RFC 3339 time is further ahead of `now` than another replica's clock can be (`now` read once). */
export function aheadOf(now: string): (time: string | undefined) => boolean {
  const limit = Date.parse(now) + CLOCK_SKEW_MS;
  return (time) => time !== undefined && Date.parse(time) > limit;
}

/** `parent`, its status without the times ahead of `now` (the same object when none is). */
export function withStoredTimesAsOf(parent: MemcachedProxy, now: string): MemcachedProxy {
  const { status } = parent;
  if (!status) return parent;
  const isAhead = aheadOf(now);
  const { conditions, configSince, configBehind, lastChange } = status;
  const conditionAhead = conditions?.some((c) => isAhead(c.lastTransitionTime)) ?? false;
  const sinceAhead = isAhead(configSince);
  const behindAhead = isAhead(configBehind?.since);
  const changeAhead = isAhead(lastChange?.time);
  if (!conditionAhead && !sinceAhead && !behindAhead && !changeAhead) return parent;
  const kept = { ...status };
  if (conditions && conditionAhead) {
    kept.conditions = conditions.map((condition) => {
      if (!isAhead(condition.lastTransitionTime)) return condition;
      const { lastTransitionTime: _ahead, ...withoutTime } = condition;
      return withoutTime;
    });
  }
  if (sinceAhead) delete kept.configSince;
  if (behindAhead) delete kept.configBehind;
  if (changeAhead) delete kept.lastChange;
  return { ...parent, status: kept };
}
