import { useQuery } from '@tanstack/react-query';
import { useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import { api, dataOf } from '../api/client';
import type { SearchHelp } from '../api/types';
import { fixedValues, snippetParts, tokenAt } from '../lib/search';

type Suggestion = { label: string; detail: string; insert: string };
type Hints = { options: Suggestion[]; hint: string | null };

export function useSearchHelp(enabled: boolean) {
  return useQuery({
    enabled,
    queryKey: ['search-help'],
    queryFn: () => dataOf(api.GET('/api/search/help')),
    staleTime: Infinity,
  });
}

/** What to offer for the word at the caret: field names while typing one, then that field's values or example. */
function hintsFor(help: SearchHelp, token: string): Hints {
  const colon = token.indexOf(':');
  if (colon < 0) {
    if (/^[-"]/.test(token)) return { options: [], hint: null };
    const typing = token.toLowerCase();
    const options = help.fields
      .filter((field) => field.field.startsWith(typing))
      .map((field) => ({ label: `${field.field}:`, detail: field.description, insert: `${field.field}:` }));
    return { options, hint: token === '' ? `Example: ${help.example}` : null };
  }
  const field = help.fields.find((candidate) => candidate.field === token.slice(0, colon).toLowerCase());
  if (!field) return { options: [], hint: null };
  const value = token.slice(colon + 1);
  const chosen = value.slice(0, value.lastIndexOf(',') + 1);
  const typing = value.slice(chosen.length).toLowerCase();
  const values = fixedValues(field.values);
  const options = values.length
    ? values
        .filter((candidate) => candidate.startsWith(typing) && !chosen.split(',').includes(candidate))
        .map((candidate) => ({ label: `${field.field}:${chosen}${candidate}`, detail: '', insert: `${field.field}:${chosen}${candidate}` }))
    : value === ''
      ? [{ label: field.example, detail: 'example', insert: field.example }]
      : [];
  return { options, hint: `${field.field}: ${field.values}. ${field.description}.` };
}

/** A field term still waiting for its value: not worth a request that can only answer "needs a value". */
const unfinished = (text: string) => /(^|\s)[A-Za-z_]+:$/.test(text);

/**
 * The search box: field syntax with hints from GET /api/search/help (a combobox: ↓/↑ choose, Enter takes, Esc closes),
 * the server's complaint about a bad term shown under it. `live` reports the text after a pause in typing;
 * otherwise only Enter does.
 */
export function SearchBox({
  value,
  onSearch,
  problem,
  live = true,
  label,
  hideLabel = false,
  placeholder,
  className,
}: {
  value: string;
  onSearch(q: string): void;
  problem?: string | null;
  live?: boolean;
  label: string;
  hideLabel?: boolean;
  placeholder?: string;
  className?: string;
}) {
  const id = useId();
  // The hints are fetched once somebody starts using a box, not on every page load.
  const [used, setUsed] = useState(false);
  const help = useSearchHelp(used);
  const input = useRef<HTMLInputElement>(null);
  const [draft, setDraft] = useState(value);
  const [caret, setCaret] = useState(value.length);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const nextCaret = useRef<number | null>(null);

  // What this box last searched for: when that comes back as `value` (the URL caught up), the box may already hold
  // newer typing (a suggestion taken meanwhile), which must not be overwritten; any other new value (back button, a
  // saved view) replaces the draft.
  const searched = useRef<string | null>(null);
  const search = (text: string) => {
    searched.current = text;
    onSearch(text);
  };
  useEffect(() => {
    if (value === searched.current) searched.current = null;
    else setDraft(value);
  }, [value]);
  useEffect(() => {
    const text = draft.trim();
    if (!live || text === value || unfinished(text)) return;
    const timer = setTimeout(() => {
      searched.current = text;
      onSearch(text);
    }, 350);
    return () => clearTimeout(timer);
  }, [live, draft, value, onSearch]);
  // After taking a suggestion the caret goes to the end of what was inserted.
  useLayoutEffect(() => {
    if (nextCaret.current === null || !input.current) return;
    input.current.setSelectionRange(nextCaret.current, nextCaret.current);
    nextCaret.current = null;
  });

  const { start, token } = tokenAt(draft, caret);
  const hints: Hints = help.data ? hintsFor(help.data, token) : { options: [], hint: null };
  const showing = open && (hints.options.length > 0 || hints.hint !== null);
  const listId = `${id}-list`;
  const hintId = `${id}-hint`;
  const problemId = `${id}-problem`;

  const edit = (text: string, at: number) => {
    setDraft(text);
    setCaret(at);
    setActive(-1);
    setOpen(true);
  };
  const take = (suggestion: Suggestion) => {
    // The whole word at the caret is replaced; a finished term gets a space after it, a field name waits for its value.
    const end = caret + (/^\S*/.exec(draft.slice(caret))?.[0].length ?? 0);
    const after = draft.slice(end);
    const before = draft.slice(0, start) + suggestion.insert + (suggestion.insert.endsWith(':') || after.startsWith(' ') ? '' : ' ');
    nextCaret.current = before.length + (after.startsWith(' ') && !suggestion.insert.endsWith(':') ? 1 : 0);
    edit(before + after, nextCaret.current);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    const count = hints.options.length;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (!showing) return setOpen(true);
      if (count === 0) return;
      const step = event.key === 'ArrowDown' ? 1 : -1;
      // -1 is the box itself: stepping past either end returns to it.
      setActive((current) => {
        const next = current + step;
        return next >= count ? -1 : next < -1 ? count - 1 : next;
      });
    } else if (event.key === 'Escape' && showing) {
      event.preventDefault();
      setOpen(false);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      if (showing && active >= 0 && active < count) return take(hints.options[active]);
      setOpen(false);
      search(draft.trim());
    }
  };

  return (
    <div className={`searchbox ${className ?? ''}`}>
      <label htmlFor={id} className={hideLabel ? 'sr-only' : undefined}>
        {label}
      </label>
      <input
        id={id}
        ref={input}
        type="search"
        role="combobox"
        autoComplete="off"
        spellCheck={false}
        placeholder={placeholder}
        value={draft}
        aria-expanded={showing}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={showing && active >= 0 ? `${id}-option-${active}` : undefined}
        aria-invalid={problem ? true : undefined}
        aria-describedby={[showing && hints.hint ? hintId : '', problem ? problemId : ''].filter(Boolean).join(' ') || undefined}
        onChange={(event) => edit(event.target.value, event.target.selectionStart ?? event.target.value.length)}
        onSelect={(event) => setCaret(event.currentTarget.selectionStart ?? draft.length)}
        onFocus={() => {
          setUsed(true);
          setOpen(true);
        }}
        onBlur={() => setOpen(false)}
        onKeyDown={onKeyDown}
      />
      <div className="search-hints" hidden={!showing}>
        <ul role="listbox" id={listId} aria-label="Search suggestions">
          {showing &&
            hints.options.map((option, index) => (
              <li
                key={option.label}
                id={`${id}-option-${index}`}
                role="option"
                aria-selected={index === active}
                className={index === active ? 'active' : undefined}
                // Keep the focus in the box: the click takes the suggestion, not the input's blur.
                onMouseDown={(event) => event.preventDefault()}
                onClick={() => take(option)}
              >
                <code>{option.label}</code>
                {option.detail && <span className="muted small"> {option.detail}</span>}
              </li>
            ))}
        </ul>
        {hints.hint && (
          <p id={hintId} className="muted small">
            {hints.hint}
          </p>
        )}
      </div>
      {problem && (
        <p id={problemId} className="form-error search-problem" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}

/** The API's snippet with its matches highlighted; every run is React text, so nothing in it is ever markup. */
export function Snippet({ snippet }: { snippet: string }) {
  return (
    <span className="snippet">
      {snippetParts(snippet).map((part, index) => (part.match ? <mark key={index}>{part.text}</mark> : part.text))}
    </span>
  );
}
