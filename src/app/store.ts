/**
 * The store: holds the state, applies actions through the reducer, tells subscribers. One store
 * per screen; the views re-render from `getState()` after each change.
 */
import type { Action } from './actions.js';
import { reduce } from './reducer.js';
import type { AppState } from './state.js';
import { initialState } from './state.js';

/** Holds the state; dispatch runs the reducer and tells subscribers. */
export interface Store {
  getState(): AppState;
  dispatch(action: Action): void;
  subscribe(listener: (state: AppState, action: Action) => void): () => void;
}

/** A store starting from `state` (default: nothing loaded). */
export function createStore(state: AppState = initialState()): Store {
  let current = state;
  const listeners = new Set<(state: AppState, action: Action) => void>();
  return {
    getState: () => current,
    dispatch(action) {
      const next = reduce(current, action);
      if (next === current) return;
      current = next;
      for (const l of listeners) l(current, action);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
