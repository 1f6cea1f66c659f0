"""The EquiAV pretraining model (official models/pt_EquiAV.py::MainModel; the engine's engine/model/*),
with the official state-dict names. `ModelConfig` is the engine's config (engine/config.ts), read from a
run's config.json `model` field (camelCase keys)."""
from __future__ import annotations

from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

MODALITIES = ("a", "v")


@dataclass(frozen=True)
class ModelConfig:
    embedDim: int = 768
    depth: int = 12
    numHeads: int = 12
    mlpRatio: float = 4
    audioLength: int = 1024
    numMelBins: int = 128
    imgSize: int = 224
    patchSize: int = 16
    projHiddenDim: int = 2048
    interProjOutDim: int = 512
    intraProjOutDim: int = 512
    augEmbDim: int = 256
    augSizeA: int = 24
    augSizeV: int = 18
    predictorHeads: int = 8
    predictorHeadDim: int = 64
    cenNum: int = 16
    cenMean: bool = True
    lnEps: float = 1e-5

    @staticmethod
    def from_json(model: dict) -> "ModelConfig":
        """The engine's ModelConfig (config.json `model`); `inputNorm` is read separately by the data loader."""
        names = {f.name for f in fields(ModelConfig)}
        return ModelConfig(**{k: v for k, v in model.items() if k in names})

    def grid(self, m: str) -> tuple[int, int]:
        """(rows, cols) of the token grid: audio rows are frequency patches, columns time patches."""
        if m == "a":
            return self.numMelBins // self.patchSize, self.audioLength // self.patchSize
        return self.imgSize // self.patchSize, self.imgSize // self.patchSize


def sincos_pos_embed(dim: int, rows: int, cols: int) -> torch.Tensor:
    """MAE 2-D sin-cos layout (engine/model/posEmbed.ts): dims [0, D/2) the column, [D/2, D) the row. [rows·cols, dim]"""
    quarter = dim // 4
    omega = 10000.0 ** (-torch.arange(quarter, dtype=torch.float64) / quarter)
    r, c = torch.meshgrid(torch.arange(rows, dtype=torch.float64), torch.arange(cols, dtype=torch.float64), indexing="ij")
    c = c.reshape(-1, 1) * omega
    r = r.reshape(-1, 1) * omega
    return torch.cat([torch.sin(c), torch.cos(c), torch.sin(r), torch.cos(r)], dim=1).float()


class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class SelfAttention(nn.Module):
    """timm ViT attention: fused qkv with bias, scale hd^−½."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        weights = ((q * (d // self.heads) ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((weights @ v).transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(c.embedDim, eps=c.lnEps)
        self.attn = SelfAttention(c.embedDim, c.numHeads)
        self.norm2 = nn.LayerNorm(c.embedDim, eps=c.lnEps)
        self.mlp = Mlp(c.embedDim, round(c.embedDim * c.mlpRatio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.proj = nn.Conv2d(3, c.embedDim, kernel_size=c.patchSize, stride=c.patchSize)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)  # [B, N, D], row-major over the grid


class CrossAttention(nn.Module):
    """The predictor's attention: q from the augmentation embedding, k/v from the tokens, bias-free to_out."""

    def __init__(self, query_dim: int, dim: int, heads: int, head_dim: int):
        super().__init__()
        inner = heads * head_dim
        self.heads, self.head_dim = heads, head_dim
        self.to_q = nn.Linear(query_dim, inner)
        self.to_k = nn.Linear(dim, inner)
        self.to_v = nn.Linear(dim, inner)
        self.to_out = nn.Linear(inner, dim, bias=False)

    def forward(self, query: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        def split(x: torch.Tensor) -> torch.Tensor:
            return x.reshape(x.shape[0], x.shape[1], self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split(self.to_q(query)), split(self.to_k(tokens)), split(self.to_v(tokens))
        weights = ((q * self.head_dim ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        mixed = (weights @ v).transpose(1, 2)
        return self.to_out(mixed.reshape(mixed.shape[0], mixed.shape[1], -1))


class CrossAttentionBlock(nn.Module):
    """u(h, t): x_s = mean_n(h) + CrossAttn(LN(AugEnc(t_s)), h); x_s += MLP(LN(x_s)). Returns every x_s: [B, S, D]."""

    def __init__(self, c: ModelConfig):
        super().__init__()
        self.norm_aug = nn.LayerNorm(c.augEmbDim, eps=c.lnEps)
        self.attn = CrossAttention(c.augEmbDim, c.embedDim, c.predictorHeads, c.predictorHeadDim)
        self.norm = nn.LayerNorm(c.embedDim, eps=c.lnEps)
        self.mlp = Mlp(c.embedDim, round(c.embedDim * c.mlpRatio))

    def forward(self, h: torch.Tensor, aug: torch.Tensor) -> torch.Tensor:
        x = h.mean(dim=1, keepdim=True) + self.attn(self.norm_aug(aug), h)
        return x + self.mlp(self.norm(x))


class ProjectionHead(nn.Module):
    """Linear–LN–ReLU–Linear–LN–ReLU–Linear–LN."""

    def __init__(self, dim: int, hidden: int, out: int, eps: float):
        super().__init__()
        self.fc1, self.norm1 = nn.Linear(dim, hidden), nn.LayerNorm(hidden, eps=eps)
        self.fc2, self.norm2 = nn.Linear(hidden, hidden), nn.LayerNorm(hidden, eps=eps)
        self.fc3, self.norm3 = nn.Linear(hidden, out), nn.LayerNorm(out, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.norm1(self.fc1(x)))
        x = F.relu(self.norm2(self.fc2(x)))
        return self.norm3(self.fc3(x))


def _aug_encoder(size: int, e: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(size, e), QuickGELU(), nn.Linear(e, e), QuickGELU(), nn.Linear(e, e))


class EquiAV(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.config = c
        d = c.embedDim
        for m in MODALITIES:
            rows, cols = c.grid(m)
            setattr(self, f"modality_{m}", nn.Parameter(torch.zeros(1, 1, d)))
            setattr(self, f"pos_embed_{m}", nn.Parameter(sincos_pos_embed(d, rows, cols).unsqueeze(0), requires_grad=False))
            setattr(self, f"patch_embed_{m}", PatchEmbed(c))
        for m in MODALITIES:
            setattr(self, f"blocks_{m}", nn.ModuleList(Block(c) for _ in range(c.depth)))
        for m in MODALITIES:
            setattr(self, f"norm_{m}", nn.LayerNorm(d, eps=c.lnEps))
            setattr(self, f"norm_{m}_aug", nn.LayerNorm(d, eps=c.lnEps))
        self.aug_encoder_a = _aug_encoder(c.augSizeA, c.augEmbDim)
        self.aug_encoder_v = _aug_encoder(c.augSizeV, c.augEmbDim)
        for m in MODALITIES:
            setattr(self, f"cross_attn_{m}", CrossAttentionBlock(c))
        for m in MODALITIES:
            setattr(self, f"pred_{m}_intra", ProjectionHead(d, c.projHiddenDim, c.intraProjOutDim, c.lnEps))
        for m in MODALITIES:
            setattr(self, f"pred_{m}_inter", ProjectionHead(d, c.projHiddenDim, c.interProjOutDim, c.lnEps))
        self.initialize_weights()

    def initialize_weights(self) -> None:
        """Official initialize_weights: Xavier-uniform Linear and patch conv (as a matrix), zero biases, LN 1/0, N(0, 0.02) modality vectors."""
        for m in MODALITIES:
            nn.init.normal_(getattr(self, f"modality_{m}"), std=0.02)
            w = getattr(self, f"patch_embed_{m}").proj.weight
            nn.init.xavier_uniform_(w.data.view(w.shape[0], -1))
            nn.init.zeros_(getattr(self, f"patch_embed_{m}").proj.bias)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    # -- encoders ---------------------------------------------------------------------------------
    def _tokens(self, m: str, x: torch.Tensor) -> torch.Tensor:
        if m == "a":
            x = x.transpose(2, 3)  # [B, 3, T, F] → [B, 3, F, T]: rows are frequency, columns time
        t = getattr(self, f"patch_embed_{m}")(x) + getattr(self, f"pos_embed_{m}") + getattr(self, f"modality_{m}")
        for block in getattr(self, f"blocks_{m}"):
            t = block(t)
        return t

    def encode(self, m: str, x: torch.Tensor, augmented: bool = False) -> torch.Tensor:
        """Final-normed tokens [B, N, D]; the augmented view has its own final norm."""
        return getattr(self, f"norm_{m}_aug" if augmented else f"norm_{m}")(self._tokens(m, x))

    def predict(self, m: str, h: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """One prediction per parameter vector: h [B, N, D], t [B, S, P] → [B, S, D]."""
        return getattr(self, f"cross_attn_{m}")(h, getattr(self, f"aug_encoder_{m}")(t))

    # -- pretraining forward ----------------------------------------------------------------------
    def _modality(self, objective: str, m: str, x, x_aug, t, t_list) -> dict:
        c = self.config
        inter_head, intra_head = getattr(self, f"pred_{m}_inter"), getattr(self, f"pred_{m}_intra")
        if objective == "inter-only":
            return {"inv": inter_head(self.encode(m, x).mean(dim=1))}
        h = self.encode(m, x)
        pooled = h.mean(dim=1)
        pooled_aug = self.encode(m, x_aug, augmented=True).mean(dim=1)
        if objective == "invariant":
            return {"inv": inter_head(pooled), "equi_t": intra_head(pooled), "aug": intra_head(pooled_aug)}
        queries = torch.cat([t.unsqueeze(1), t_list], dim=1) if c.cenMean else t.unsqueeze(1)
        predictions = self.predict(m, h, queries)  # [B, 1(+S), D]
        inter_input = predictions[:, 1:].mean(dim=1) if c.cenMean else pooled
        return {"inv": inter_head(inter_input), "equi_t": intra_head(predictions[:, 0]), "aug": intra_head(pooled_aug)}

    def forward(self, a, v, a_aug, v_aug, t_a, t_v, t_a_list, t_v_list, objective: str = "equiav") -> dict:
        """The six embeddings of the official MainModel.forward: z_a_inv, z_v_inv, z_a_equi_t, z_v_equi_t, z_a_aug, z_v_aug."""
        out_a = self._modality(objective, "a", a, a_aug, t_a, t_a_list)
        out_v = self._modality(objective, "v", v, v_aug, t_v, t_v_list)
        return {f"z_{m}_{k}": val for m, o in (("a", out_a), ("v", out_v)) for k, val in o.items()}

    def forward_feat(self, a, v, t_a_list, t_v_list) -> tuple[torch.Tensor, torch.Tensor]:
        """Official forward_feat: the inter-modal centroid embeddings."""
        return tuple(
            getattr(self, f"pred_{m}_inter")(self.predict(m, self.encode(m, x), tl).mean(dim=1))
            for m, x, tl in (("a", a, t_a_list), ("v", v, t_v_list))
        )


# -- the engine's storage orientation (engine/model/params.ts) -------------------------------------
def _is_matrix(name: str, value: torch.Tensor) -> bool:
    """Linear weights and the patch conv are stored [in, out] by the engine."""
    return name.endswith(".weight") and value.dim() >= 2


def to_engine_layout(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for name, value in state.items():
        value = value.detach().float().cpu()
        out[name] = value.reshape(value.shape[0], -1).t().contiguous() if _is_matrix(name, value) else value.contiguous()
    return out


def from_engine_layout(model: nn.Module, tensors: dict[str, torch.Tensor], source: str) -> dict[str, torch.Tensor]:
    """Engine-layout tensors → this model's state dict; names every missing or mis-shaped tensor."""
    out, problems = {}, []
    for name, value in model.state_dict().items():
        t = tensors.get(name)
        if t is None:
            problems.append(f"missing {name}")
            continue
        t = t.t().reshape(value.shape) if _is_matrix(name, value) and t.dim() == 2 and t.numel() == value.numel() else t
        if tuple(t.shape) != tuple(value.shape):
            problems.append(f"{name} has shape {list(t.shape)} but the model expects {list(value.shape)}")
            continue
        out[name] = t
    if problems:
        raise ValueError(f"{source}: " + "; ".join(problems[:20]))
    return out


# -- official checkpoints (state dict keys `__M__.<name>`) ------------------------------------------
def load_official(model: EquiAV, state: dict[str, torch.Tensor]) -> None:
    """Load an official state dict (with or without `__M__.`); the Block norms norm{1,2}_{a,v} the forward never uses are skipped."""
    own = model.state_dict()
    unused = [k for k in state if ".norm1_" in k or ".norm2_" in k]
    cleaned = {k.removeprefix("__M__."): v for k, v in state.items() if k not in unused}
    missing = sorted(set(own) - set(cleaned))
    unexpected = sorted(set(cleaned) - set(own))
    if missing or unexpected:
        raise ValueError(f"official checkpoint does not match the model: missing {missing[:10]}, unexpected {unexpected[:10]}")
    model.load_state_dict({k: v.reshape(own[k].shape) for k, v in cleaned.items()})


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["ModelConfig", "EquiAV", "to_engine_layout", "from_engine_layout", "load_official"]
