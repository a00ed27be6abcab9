"""The options commands share, declared once: the `train` inputs (given to a command by
`run_inputs`), the model sources (`--config`, `--presets`), and what to print (`--json`, `--brief`,
`--sources`, `--fields`, `--plot`). Help texts are spelled out, not read from the registries
(flops, hf_config, estimates), which `--help` does not load: tests/test_help.py holds them to those."""

import functools
import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

import typer

from llamacalc.cli.catalogs import catalog_from
from llamacalc.errors import LlamacalcError


def opt(help: str, *names: str, complete: Callable[[str], list[str]] | None = None) -> Any:
    return typer.Option(*names, help=help, show_default=False, autocompletion=complete)


def presets_named(kind: str, *extra: str) -> Callable[[str], list[str]]:
    """Shell completion of a preset name of `kind` (the user's own included), plus fixed choices."""

    def complete(incomplete: str) -> list[str]:
        try:
            names = catalog_from(None).names(kind)
        except LlamacalcError:  # a broken preset folder: complete what is fixed
            names = []
        return [name for name in (*names, *extra) if name.startswith(incomplete)]

    return complete


def choices(*values: str) -> Callable[[str], list[str]]:
    return lambda incomplete: [value for value in values if value.startswith(incomplete)]


# The `train` inputs, shared by every command that plans a run (`RUN_OPTIONS` below).
ModelArg = Annotated[
    str | None,
    typer.Argument(
        help="Model preset, e.g. llama-3.1-405b.", show_default=False, autocompletion=presets_named("models")
    ),
]
ParamsOpt = Annotated[str | None, opt("Total parameters, e.g. 405B.")]
ActiveOpt = Annotated[str | None, opt("Active parameters per token (MoE), e.g. 17B.")]
TokensOpt = Annotated[str | None, opt("Training tokens, e.g. 15.6T.")]
GpuOpt = Annotated[
    str | None, opt("Accelerator preset [default: the model's, else h100-sxm].", complete=presets_named("hardware"))
]
GpusOpt = Annotated[str | None, opt("GPU count, e.g. 16384 or 16K: gives the days.")]
DaysOpt = Annotated[str | None, opt("Wall-clock target, e.g. 54 or '3 weeks': gives the GPUs.")]
ClusterOpt = Annotated[str | None, opt("Cluster preset: sets GPU type and count.", complete=presets_named("clusters"))]
MfuOpt = Annotated[
    str | None,
    opt(
        "Model FLOPs utilisation, e.g. 0.4 or 40% [default: the efficiency model's fit to size, GPU and scale; "
        "0.197 in fp8; --layout takes it from the step model]."
    ),
]
PrecisionOpt = Annotated[
    str | None, opt("bf16 or fp8: the dense peak MFU refers to [default: bf16].", complete=choices("bf16", "fp8"))
]
ServingPrecisionOpt = Annotated[
    str | None,
    opt("Weights and KV cache served in bf16, fp8 or int8 [default: bf16].", complete=choices("bf16", "fp8", "int8")),
]
PriceOpt = Annotated[str | None, opt("Price per GPU-hour, e.g. '2.5 USD/h' [default: the GPU preset's].")]
PricingOpt = Annotated[
    str | None,
    opt(
        "on-demand (the GPU preset's cloud price), reserved-1y, reserved-3y, spot (tiers off it) or owned "
        "(hardware amortised, networking, energy) [default: on-demand].",
        complete=choices("on-demand", "reserved-1y", "reserved-3y", "spot", "owned"),
    ),
]
LifeOpt = Annotated[
    str | None, opt("With --pricing owned: straight-line life, e.g. '5.5 years' [default: Epoch's rate].")
]
PowerOpt = Annotated[str | None, opt("Power per GPU, e.g. 700W [default: the GPU's TDP].")]
PueOpt = Annotated[str | None, opt("Data-centre PUE, >= 1 [default: 1.09].")]
CarbonOpt = Annotated[str | None, opt("Grid carbon intensity, e.g. '0.38 kg/kWh' [default: 0.367].")]
FlopsOpt = Annotated[
    str | None,
    opt(
        "FLOP convention: 6nd, palm, megatron, hardware, or all [default: 6nd].",
        complete=choices("6nd", "palm", "megatron", "hardware", "all"),
    ),
]
RecomputeOpt = Annotated[
    str | None,
    opt(
        "With --flops hardware: activation recomputation none, selective or full.",
        complete=choices("none", "selective", "full"),
    ),
]
SeqLenOpt = Annotated[str | None, opt("Training sequence length for attention FLOPs [default: the preset's].")]
ConfigOpt = Annotated[
    Path | None,
    opt(
        "A Hugging Face config.json as the model (28 families: Llama 1-4 and 3.2 Vision (Mllama), Mistral and "
        "Mistral 3, Mixtral, Qwen 2-3, Qwen 2.5-VL and MoE, Gemma 1-3, Phi-1.5 to 3, DeepSeek V2-V3, Granite, OLMo 2, "
        "GPT-NeoX, Falcon, StarCoder 2, StableLM, Cohere; a multimodal config's text model)."
    ),
]
VisionOpt = Annotated[
    bool,
    typer.Option(
        "--vision",
        help="With a multimodal --config: count its vision tower and projector in the total parameters (the FLOPs "
        "stay the text decoder's per text token).",
    ),
]
PresetsOpt = Annotated[
    list[Path] | None,
    opt("Extra directory of *.toml presets (repeatable; also $LLAMACALC_PRESETS, a path list).", "--presets"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
BriefOpt = Annotated[
    bool, typer.Option("--brief", help="Print one line, the answer, fit for a commit message or a chat.")
]
SourcesOpt = Annotated[
    bool, typer.Option("--sources", help="Show every input: its value, where it came from, and its source.")
]
FieldsOpt = Annotated[
    str | None,
    typer.Option(
        "--fields",
        help="Only these keys of each run's JSON (implies --json), dotted when nested: days,cost_usd,ranges.days.p90",
    ),
]


def train_fields(text: str | None) -> "tuple[tuple[str, ...], ...] | None":
    """--fields checked against the shipped train schema, before any work; None without it."""
    if text is None:
        return None
    import json
    from importlib import resources

    from llamacalc.output.fields import parse

    schema = json.loads((resources.files("llamacalc") / "schemas" / "train.json").read_text(encoding="utf-8"))
    return parse(text, schema)


PlotOpt = Annotated[Path | None, opt("Also draw the result as a chart: an SVG file.", "--plot")]


# Every `train` input as an option, in help order; keys are the input names of inputs.INPUTS (a test checks).
RUN_OPTIONS: Mapping[str, Any] = {
    "model": ModelArg, "params": ParamsOpt, "active_params": ActiveOpt, "tokens": TokensOpt,
    "gpu": GpuOpt, "gpus": GpusOpt, "days": DaysOpt, "cluster": ClusterOpt, "mfu": MfuOpt,
    "precision": PrecisionOpt, "price": PriceOpt, "pricing": PricingOpt, "life": LifeOpt, "power": PowerOpt,
    "pue": PueOpt, "carbon": CarbonOpt, "flops": FlopsOpt, "recompute": RecomputeOpt, "seq_len": SeqLenOpt,
}  # fmt: skip

Command = TypeVar("Command", bound=Callable[..., Any])


def run_inputs(*names: str) -> Callable[[Command], Command]:
    """Give a command the named `train` inputs as options (all by default); it gets them as `request`.

    One declaration of each input for every command that plans a run: typer reads the options from
    the wrapper's signature, and the command receives `request`, a dict of the given ones.
    """
    chosen = names or tuple(RUN_OPTIONS)

    def decorate(command: Command) -> Command:
        @functools.wraps(command)
        def wrapper(**options: Any) -> Any:
            request = {name: options.pop(name) for name in chosen}
            return command(request={k: v for k, v in request.items() if v is not None}, **options)

        added = {name: RUN_OPTIONS[name] for name in chosen}
        return with_options(wrapper, command, added, first=True, replacing="request")

    return decorate


def with_options(
    wrapper: Callable[..., Any], command: Command, added: Mapping[str, Any], *, first: bool, replacing: str = ""
) -> Command:
    """`wrapper` with the signature typer reads options from: `added` (name -> annotated type, default
    None) before or after the command's own parameters, less the one the wrapper supplies."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    own = [p.replace(kind=keyword) for name, p in inspect.signature(command).parameters.items() if name != replacing]
    new = [inspect.Parameter(name, keyword, default=None, annotation=kind) for name, kind in added.items()]
    wrapper.__signature__ = inspect.Signature([*new, *own] if first else [*own, *new])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**added, **command.__annotations__}
    return cast(Command, wrapper)
