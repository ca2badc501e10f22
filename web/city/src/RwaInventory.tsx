// The team's real-world assets (energy, food lots, water) as partners report them through the Embassy; the
// quantities are the API's exact decimals, shown as text so nothing is rounded.
import { expectOk, type ApiClient } from '../../shared/api.ts';
import { EmptyState, ErrorState, LoadingState, useResource } from '../../shared/ui.tsx';
import type { Team } from './types.ts';

const kindLabels: Record<string, string> = { energy: 'Energy', food_lot: 'Food lot', water: 'Water' };

export function RwaInventory({ api, team }: { api: ApiClient; team: Team }) {
  const inventory = useResource(() => expectOk(api.api.teams[':teamId'].rwa.inventory.$get({ param: { teamId: team.id } })), [team.id]);
  const items = inventory.data?.items;
  return (
    <section aria-labelledby="rwa-heading" className="rwa">
      <h2 id="rwa-heading">Real-world assets</h2>
      {inventory.status === 'loading' && !items && <LoadingState label="Loading the inventory…" />}
      {inventory.status === 'error' && (
        <ErrorState title="Could not load the inventory." error={inventory.error} onRetry={inventory.reload} />
      )}
      {items && items.length === 0 && <EmptyState>No assets yet: they appear when a linked partner reports them.</EmptyState>}
      {items && items.length > 0 && (
        <table>
          <caption className="visually-hidden">Assets of {team.name} by partner</caption>
          <thead>
            <tr>
              <th scope="col">Asset</th>
              <th scope="col">Partner</th>
              <th scope="col">Quantity</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.id}>
                <td>
                  {kindLabels[item.asset_kind] ?? item.asset_kind} {item.asset_ref}
                  {item.location ? ` (${item.location})` : ''}
                </td>
                <td>{item.partner}</td>
                <td className="quantity">
                  {item.quantity} {item.unit}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
