// Extractive summary of chat messages, deterministic and dependency-free: the sentences whose words are most
// frequent across the messages (a classic frequency score, normalised by sentence length), in their original
// order. What the built-in summarizer agent posts; CI, local runs and the post-deploy check rely on it.

const STOP_WORDS = new Set(
  'about after again also been before being could does doing down from have having here into just more most only other over same should some such than that their them then there these they this those through very what when where which while will with would your yours'.split(
    ' ',
  ),
);
const MAX_SENTENCE_CHARACTERS = 280;

const wordsOf = (text: string): string[] =>
  (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((word) => word.length > 3 && !STOP_WORDS.has(word));

function sentencesOf(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/u)
    .map((sentence) => sentence.trim())
    .filter((sentence) => wordsOf(sentence).length > 0)
    .map((sentence) => (sentence.length > MAX_SENTENCE_CHARACTERS ? `${sentence.slice(0, MAX_SENTENCE_CHARACTERS - 1)}…` : sentence));
}

/** The `keep` most representative sentences of `messages` (oldest first), in the order they were written. */
export function summarizeExtractively(messages: readonly string[], keep = 3): string[] {
  const sentences = messages.flatMap(sentencesOf);
  const frequency = new Map<string, number>();
  for (const sentence of sentences) for (const word of wordsOf(sentence)) frequency.set(word, (frequency.get(word) ?? 0) + 1);
  const scored = sentences.map((sentence, index) => {
    const words = wordsOf(sentence);
    const score = words.reduce((sum, word) => sum + (frequency.get(word) ?? 0), 0) / Math.sqrt(words.length);
    return { sentence, index, score };
  });
  const seen = new Set<string>();
  return scored
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .filter(({ sentence }) => !seen.has(sentence) && seen.add(sentence))
    .slice(0, keep)
    .sort((a, b) => a.index - b.index)
    .map(({ sentence }) => sentence);
}
