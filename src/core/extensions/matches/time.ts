/** -m time: depends on the time of day → unknown (kept for display). */
import { opaqueMatch } from '../opaque.js';

/** The time match extension. */
export const timeMatch = opaqueMatch('time', {
  options: ['datestart', 'datestop', 'timestart', 'timestop', 'monthdays', 'weekdays', 'contiguous', 'kerneltz', 'utc', 'localtz'],
  flags: ['contiguous', 'kerneltz', 'utc', 'localtz'],
  reason: 'depends on the time of day',
});
