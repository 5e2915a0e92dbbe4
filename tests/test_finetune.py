"""Fine-tuning a head on an encoder through the trainer; scratch vs pretrained."""

import torch
from torch import nn

from avlib.eval.finetune import finetune, scratch_vs_pretrained
from avlib.train import TrainConfig


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 36, 16))

    def embed_video(self, video):
        return self.net(video[:, :, 0])


def classes(n_batches: int, seed: int):
    """Three classes of 8x8 frames: a class-specific pattern plus noise."""
    g = torch.Generator().manual_seed(seed)
    patterns = torch.randn(3, 3, 1, 8, 8, generator=torch.Generator().manual_seed(99))
    batches = []
    for _ in range(n_batches):
        label = torch.randint(3, (16,), generator=g)
        video = patterns[label] + 3.0 * torch.randn(16, 3, 1, 8, 8, generator=g)
        batches.append({"video": video, "label": label})
    return batches


CFG = TrainConfig(epochs=3, lr=3e-3, device="cpu", progress=False)


def test_finetune_learns_the_classes_and_leaves_the_encoder_untouched():
    torch.manual_seed(0)
    encoder = Encoder()
    before = [p.clone() for p in encoder.parameters()]
    result = finetune(encoder, classes(20, 0), classes(8, 1), 3, CFG)
    assert result.accuracy > 0.8 and len(result.train.history) == 3
    assert all(torch.equal(a, b) for a, b in zip(before, encoder.parameters(), strict=True))


def test_frozen_encoder_trains_only_the_head():
    torch.manual_seed(0)
    result = finetune(Encoder(), classes(10, 0), classes(4, 1), 3, CFG, freeze=True)
    model = result.model
    assert not any(p.requires_grad for p in model.encoder.parameters())
    model.train()
    assert not model.encoder.training and model.head.training


def test_pretrained_encoder_beats_scratch_with_little_fine_tuning():
    torch.manual_seed(0)
    pretrained = finetune(Encoder(), classes(40, 2), classes(4, 3), 3, CFG).model.encoder
    # two batches of labels: too few to learn from scratch (measured 0.69 vs 0.88 pretrained)
    scores = scratch_vs_pretrained(Encoder, pretrained, classes(2, 0), classes(8, 1), 3, CFG)
    assert scores["gain"] == scores["pretrained_acc"] - scores["scratch_acc"]
    assert scores["pretrained_acc"] > 0.8 and scores["gain"] > 0.1
