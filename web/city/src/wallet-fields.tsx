// The form fields the wallet's forms share (payouts, stakes, gifts): an amount as the wallet routes take it — a
// whole number of base units, sent as a decimal string — and a short memo.
import { Field } from '../../shared/ui.tsx';

interface TextFieldProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
}

/** A positive whole number of base units. */
export function AmountField({ label, value, onChange }: TextFieldProps) {
  return (
    <Field label={label}>
      {({ id, describedBy }) => (
        <input
          id={id}
          aria-describedby={describedBy}
          value={value}
          required
          inputMode="numeric"
          pattern="[1-9][0-9]*"
          onChange={(event) => onChange(event.target.value)}
        />
      )}
    </Field>
  );
}

/** An optional note of up to 280 characters, as the routes accept. */
export function MemoField({ label, value, onChange }: TextFieldProps) {
  return (
    <Field label={label}>
      {({ id, describedBy }) => (
        <input id={id} aria-describedby={describedBy} value={value} maxLength={280} onChange={(event) => onChange(event.target.value)} />
      )}
    </Field>
  );
}
