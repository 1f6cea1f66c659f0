"""The trainer's model against the golden fixture of the official PyTorch MainModel (the same fixture and
tolerances as the engine's tests/parity/model.test.ts): six embeddings, four losses, nine gradients."""
import json
import os

import pytest
import torch

from conftest import parity_fixture_dir
from equiav_trainer import safetensors_io
from equiav_trainer.losses import equiav_loss
from equiav_trainer.model import EquiAV, ModelConfig, from_engine_layout, load_official, to_engine_layout

DIR = parity_fixture_dir()


def fixture_config(fixture: dict) -> ModelConfig:
    m = fixture["model_config"]
    return ModelConfig(embedDim=m["embed_dim"], depth=m["modality_specific_depth"], numHeads=m["num_heads"],
                       projHiddenDim=m["proj_hidden_dim"], interProjOutDim=m["inter_proj_out_dim"],
                       intraProjOutDim=m["intra_proj_out_dim"], augEmbDim=m["aug_emb_dim"], audioLength=m["audio_length"],
                       numMelBins=m["num_mel_bins"], imgSize=m["img_size"], cenMean=m["cen_mean"], cenNum=m["cen_num"])


@pytest.fixture(scope="module")
def setup():
    with open(os.path.join(DIR, "fixture.json")) as f:
        fixture = json.load(f)
    io = safetensors_io.read(os.path.join(DIR, "io.safetensors"))
    model = EquiAV(fixture_config(fixture))
    load_official(model, safetensors_io.read(os.path.join(DIR, "weights.safetensors")))
    inputs = {k: io[f"input.{k}"] for k in ("a", "v", "a_aug", "v_aug", "t_a", "t_v", "t_a_list", "t_v_list")}
    return fixture, io, model, inputs


def test_six_embeddings_within_1e_4(setup):
    fixture, io, model, inputs = setup
    with torch.no_grad():
        out = model(**inputs)
    assert sorted(out) == sorted(fixture["outputs"])
    for name in fixture["outputs"]:
        want = io[f"output.{name}"]
        assert out[name].shape == want.shape, name
        assert (out[name] - want).abs().max().item() < 1e-4, name


def test_losses_and_gradients(setup):
    fixture, io, model, inputs = setup
    w = fixture["loss_weights"]
    model.zero_grad()
    loss = equiav_loss(model(**inputs), {"inter": w["inter"], "intraA": w["intra_a"], "intraV": w["intra_v"]}, fixture["tau"])
    loss["total"].backward()
    for name in ("total", "inter", "intra_a", "intra_v"):
        assert abs(loss[name].item() - io[f"loss.{name}"].item()) < 1e-4, name
    params = dict(model.named_parameters())
    assert fixture["grads"]
    for grad_name in fixture["grads"]:
        want = io[grad_name]
        got = params[grad_name.removeprefix("grad.")].grad.reshape(want.shape)
        scale = want.abs().max().item()
        assert scale > 0, f"{grad_name} is all zero in the fixture"
        assert (got - want).abs().max().item() / scale < 1e-4, grad_name


def test_engine_layout_round_trip(setup):
    _, _, model, _ = setup
    engine = to_engine_layout(model.state_dict())
    # the engine stores Linear weights [in, out] and the patch conv as a [C·p·p, D] matrix
    assert engine["blocks_a.0.attn.qkv.weight"].shape == (64, 192)
    assert engine["patch_embed_a.proj.weight"].shape == (3 * 16 * 16, 64)
    back = from_engine_layout(model, engine, "round trip")
    for name, value in model.state_dict().items():
        assert torch.equal(back[name], value), name
