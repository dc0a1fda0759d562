/**
 * PostgreSQL WAL positions (LSNs), as the server writes them: two hexadecimal
 * halves, `16/B374D848`. Compared as 64-bit numbers, never as text.
 */
const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** The position as a number, or null when `text` is not an LSN. */
export function parseLsn(text: string): bigint | null {
  const m = LSN.exec(text);
  return m ? (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`) : null;
}

