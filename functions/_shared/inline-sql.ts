// Parameterless SQL for the statements every write makes. With `prepare: false` (what Supavisor's transaction
// mode needs) postgres.js sends a statement that has parameters in two round trips — Parse/Describe, wait for
// the parameter types, then Bind/Execute — and one without parameters as a simple query in one. So the hot
// statements (a transaction's claims, an event's enqueue, a message's insert) inline their values instead.
// A text value is inlined as base64 that the server decodes: base64's alphabet holds no quote, backslash or
// dollar sign, so no value can end its literal, whatever the server's standard_conforming_strings.

/** A piece of parameterless SQL. Only inlineSql makes one (the class itself is not exported), so its text holds
    nothing but the template's own source and encoded values. */
class InlineSql {
  constructor(readonly text: string) {}
}
export type { InlineSql };

export type InlineValue = string | number | boolean | null | InlineSql;

const BASE64_CHUNK = 0x8000;

function base64Utf8(value: string): string {
  const bytes = new TextEncoder().encode(value);
  let binary = '';
  for (let start = 0; start < bytes.length; start += BASE64_CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(start, start + BASE64_CHUNK));
  }
  return btoa(binary);
}

/** The SQL text of one value: a text expression for a string (cast it in the template), a plain literal otherwise. */
function inlineValue(value: InlineValue): string {
  if (value instanceof InlineSql) return value.text;
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`inlineSql inlines only safe integers, not ${value}`);
    return String(value);
  }
  if (typeof value !== 'string') throw new TypeError(`inlineSql cannot inline a value of type ${typeof value}`);
  return `convert_from(decode('${base64Utf8(value)}', 'base64'), 'UTF8')`;
}

/** SQL with its values inlined (see the top of this file): run it with `tx.unsafe(query.text)`. */
export function inlineSql(strings: TemplateStringsArray, ...values: InlineValue[]): InlineSql {
  let text = strings[0]!;
  values.forEach((value, index) => {
    text += inlineValue(value) + strings[index + 1]!;
  });
  return new InlineSql(text);
}
