/** -m comment --comment TEXT: always matches (xt_comment.c comment_mt returns true). */
import type { ExtensionBase } from '../types.js';
import { err, ok, opt, yes } from '../util.js';

/** Parsed comment. */
export interface CommentMatch {
  comment: string;
}

/** The comment match extension. */
export const commentMatch: ExtensionBase<CommentMatch> = {
  name: 'comment',
  optionNames: ['comment'],
  parse(options) {
    const o = opt(options, 'comment');
    if (!o) return err('comment: --comment is required');
    return ok({ comment: o.args.join(' ') });
  },
  describe: (v) => `/* ${v.comment} */`,
  evaluate: (v) => yes(`/* ${v.comment} */`),
};
