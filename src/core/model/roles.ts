// Roles of linear layers from their module names, merged with what the graph structure says
// (structure.ts). Names win when both speak; a disagreement is reported.
import { blockFromName, modulePathFromNode, modulePathFromWeight } from './names.ts';
import type { LinearLayer, LinearRole } from './types.ts';
import { shortName } from '../onnx/display.ts';

// Module-path rules, first match wins. Paths are dotted: 'transformer.h.0.attn.c_attn'.
// Generic leaf names (fc1, proj, dense, w1) count only under an attention/MLP scope.
const NAME_RULES: [RegExp, LinearRole][] = [
  [/(^|\.)pooler(\.|$)/i, 'other'],
  [/(^|\.)(c_attn|qkv|qkv_proj|query_key_value|in_proj|wqkv|qkv_linear)$/i, 'attn.qkv'],
  [/(^|\.)(q_proj|query|q_lin|wq|to_q)$/i, 'attn.q'],
  [/(^|\.)(k_proj|key|k_lin|wk|to_k)$/i, 'attn.k'],
  [/(^|\.)(v_proj|value|v_lin|wv|to_v)$/i, 'attn.v'],
  [/(attn|attention)\.q$/i, 'attn.q'],
  [/(attn|attention)\.k$/i, 'attn.k'],
  [/(attn|attention)\.v$/i, 'attn.v'],
  [/(attn|attention)\.(output\.dense|c_proj|o_proj|out_proj|proj|dense|out|wo|out_lin|to_out(\.0)?)$/i, 'attn.out'],
  [/(^|\.)(o_proj|out_proj)$/i, 'attn.out'],
  [/(^|\.)(gate_proj|wi_0)$/i, 'mlp.gate'],
  [/(feed_forward|ffn|mlp)\.(w1|gate)$/i, 'mlp.gate'],
  [/(feed_forward|ffn|mlp)\.w3$/i, 'mlp.up'],
  [/(feed_forward|ffn|mlp)\.w2$/i, 'mlp.down'],
  [/(^|\.)(up_proj|c_fc|dense_h_to_4h|fc_in|wi_1|intermediate\.dense)$/i, 'mlp.up'],
  [/(feed_forward|ffn|mlp)\.(fc1|lin1|wi|fc|up|dense1)$/i, 'mlp.up'],
  [/(^|\.)(down_proj|dense_4h_to_h|fc_out)$/i, 'mlp.down'],
  [/(feed_forward|ffn|mlp)\.(c_proj|fc2|lin2|wo|proj|down|dense2)$/i, 'mlp.down'],
  [/(^|\.)output\.dense$/i, 'mlp.down'], // BERT/ViT layer.N.output.dense (attention.output.dense matched above)
  [/(^|\.)(lm_head|classifier|score|qa_outputs|embed_out|cls\.predictions\.decoder)$/i, 'head'],
  [/(^|\.)head$/i, 'head'],
  [/(^|\.)(patch_embed|patch_embed\.proj|patch_embeddings\.projection|patch_embedding|embed|embedding)$/i, 'embed'],
];

/** The role a module path names, or null. A head or embedding never sits inside a block. */
export function roleFromName(path: string): LinearRole | null {
  if (!path) return null;
  const inBlock = blockFromName(path) !== null;
  for (const [pattern, role] of NAME_RULES) {
    if (!pattern.test(path)) continue;
    if ((role === 'head' || role === 'embed') && inBlock) continue;
    return role;
  }
  return null;
}

function nameRole(layer: LinearLayer): LinearRole | null {
  return roleFromName(modulePathFromNode(layer.nodeName)) ?? roleFromName(modulePathFromWeight(layer.weight));
}

/** Each layer's role: from its name when a rule matches, else from the structure, else 'other'. */
export function assignRoles(
  linears: readonly LinearLayer[],
  structural: ReadonlyMap<string, LinearRole>,
  warnings: string[],
): LinearLayer[] {
  return linears.map((layer) => {
    const byName = nameRole(layer);
    const byStructure = structural.get(layer.id) ?? null;
    if (byName && byStructure && byName !== byStructure) {
      warnings.push(
        `Linear '${shortName(layer.name)}': its name says ${byName} but the graph structure says ${byStructure}; keeping ${byName}`,
      );
    }
    if (byName) return { ...layer, role: byName, roleSource: 'name' };
    if (byStructure) return { ...layer, role: byStructure, roleSource: 'structure' };
    return { ...layer, role: 'other', roleSource: 'none' };
  });
}
