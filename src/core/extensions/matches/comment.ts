/** -m comment --comment TEXT: always matches (xt_comment.c comment_mt returns true). */
import type { ExtensionBase, MatchResult } from '../types.js';
import { err, ok, opt, yes } from '../util.js';

/** Parsed comment. */
export interface CommentMatch {
  comment: string;
  /** The (constant) result, built once. */
  result: MatchResult;
}

/** The comment match extension. */
export const commentMatch: ExtensionBase<CommentMatch> = {
  name: 'comment',
  optionNames: ['comment'],
  anyValue: ['comment'],
  parse(options) {
    const o = opt(options, 'comment');
    if (!o) return err('comment: --comment is required');
    const comment = o.args.join(' ');
    return ok({ comment, result: yes(`/* ${comment} */`) });
  },
  describe: (v) => `/* ${v.comment} */`,
  evaluate: (v) => v.result,
  constant: (v) => v.result,
};
