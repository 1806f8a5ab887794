// Colours for layer roles. Six classes, not one per role: q, k and v sit side by side in a block
// and read as one sublayer, as do MLP up and gate; the tooltip and the table name the exact role.
// Colours: Okabe & Ito's blue, vermillion and bluish green, Tol's wine, near-black and grey. Each
// has at least 3:1 contrast against white (WCAG 2.1 SC 1.4.11, graphical objects, level AA), and
// the six stay apart under simulated protan, deutan and tritan vision (checked in rolePalette.test.ts).
import type { LinearRole } from '../../core/model';

export interface RoleClass {
  /** CSS-safe key, used as a class name suffix. */
  key: string;
  label: string;
  color: string;
  roles: readonly LinearRole[];
}

export const ROLE_CLASSES: readonly RoleClass[] = [
  { key: 'attn-qkv', label: 'attention q/k/v', color: '#0072B2', roles: ['attn.q', 'attn.k', 'attn.v', 'attn.qkv'] },
  { key: 'attn-out', label: 'attention out', color: '#882255', roles: ['attn.out'] },
  { key: 'mlp-up', label: 'MLP up/gate', color: '#D55E00', roles: ['mlp.up', 'mlp.gate'] },
  { key: 'mlp-down', label: 'MLP down', color: '#009E73', roles: ['mlp.down'] },
  { key: 'head', label: 'head', color: '#222222', roles: ['head'] },
  { key: 'other', label: 'other', color: '#8A8A8A', roles: ['embed', 'other'] },
];

const OTHER = ROLE_CLASSES[ROLE_CLASSES.length - 1];

/** The class of a role name; an unknown name counts as 'other'. */
export function roleClassOf(role: string): RoleClass {
  return ROLE_CLASSES.find((c) => (c.roles as readonly string[]).includes(role)) ?? OTHER;
}
