// Prod keeps Supabase's own daily backups and PITR; this reads what `supabase backups list -o json` (the pinned
// CLI, i.e. the Management API's GET /v1/projects/{ref}/database/backups) reports and says whether it is
// good enough: PITR on and the newest backup (or the newest PITR restore point) recent enough.
import { z } from 'zod';

export const supabaseBackupsSchema = z.object({
  region: z.string().optional(),
  walg_enabled: z.boolean().optional(),
  pitr_enabled: z.boolean(),
  backups: z.array(
    z.object({
      is_physical_backup: z.boolean().optional(),
      status: z.string(),
      inserted_at: z.string(),
    }),
  ),
  physical_backup_data: z
    .object({
      earliest_physical_backup_date_unix: z.number().optional(),
      latest_physical_backup_date_unix: z.number().optional(),
    })
    .optional(),
});

export type SupabaseBackups = z.infer<typeof supabaseBackupsSchema>;

export interface BackupCheck {
  ok: boolean;
  /** One sentence per finding, failures first. */
  findings: string[];
  newest_backup_at?: string;
  newest_age_hours?: number;
}

/** Judges the listing at `now`: fails when PITR is off (if required) or nothing completed within `maxAgeHours`. */
export function judgeSupabaseBackups(
  listing: SupabaseBackups,
  { now, maxAgeHours, requirePitr }: { now: Date; maxAgeHours: number; requirePitr: boolean },
): BackupCheck {
  const failures: string[] = [];
  const notes: string[] = [];
  if (requirePitr && !listing.pitr_enabled)
    failures.push(
      'point-in-time recovery is OFF for this project: enable the PITR add-on (Dashboard → Database → Backups) before relying on it',
    );
  else notes.push(`point-in-time recovery is ${listing.pitr_enabled ? 'on' : 'off (not required here)'}`);

  const completed = listing.backups
    .filter((b) => b.status.toUpperCase() === 'COMPLETED')
    .map((b) => Date.parse(b.inserted_at))
    .filter((t) => Number.isFinite(t));
  const latestPhysical = listing.physical_backup_data?.latest_physical_backup_date_unix;
  if (latestPhysical !== undefined) completed.push(latestPhysical * 1000);
  if (completed.length === 0) {
    failures.push('the project lists no completed backup at all: check the Dashboard → Database → Backups page');
    return { ok: false, findings: [...failures, ...notes] };
  }
  const newest = Math.max(...completed);
  const ageHours = (now.getTime() - newest) / 3_600_000;
  const newestAt = new Date(newest).toISOString();
  if (ageHours > maxAgeHours)
    failures.push(
      `the newest backup (${newestAt}) is ${ageHours.toFixed(1)} h old, more than the allowed ${maxAgeHours} h: daily backups have stopped; contact Supabase support and take a logical backup now (scripts/backup.sh)`,
    );
  else notes.push(`the newest backup (${newestAt}) is ${ageHours.toFixed(1)} h old (limit ${maxAgeHours} h)`);
  return { ok: failures.length === 0, findings: [...failures, ...notes], newest_backup_at: newestAt, newest_age_hours: ageHours };
}
