/**
 * An instant as ISO 8601 UTC text (`2026-12-04T15:59:00.000Z`), the same as
 * `new Date(ms).toISOString()` for every instant from year 0 to 9999, computed with integer
 * arithmetic. Why not Date's own: V8 works out the local time zone the first time any Date is
 * turned into text, even as UTC, and that starts ICU's time-zone data, about 1.2 MiB of a
 * process's memory and 0.7 ms, which a supervisor that only stamps job exits need not pay
 * (bench/startup/README.md). Days to a civil date: the era-based algorithm for the proleptic
 * Gregorian calendar (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
 */
export function isoTime(ms: number): string {
  const day = Math.floor(ms / 86_400_000);
  const inDay = ms - day * 86_400_000;
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const h = Math.floor(inDay / 3_600_000);
  const min = Math.floor(inDay / 60_000) % 60;
  const s = Math.floor(inDay / 1000) % 60;
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}T${pad(h)}:${pad(min)}:${pad(s)}.${pad(inDay % 1000, 3)}Z`;
}
