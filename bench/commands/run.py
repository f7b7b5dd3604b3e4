"""``codec-bench run``: the flags of a run, turned into ``RunOptions`` for ``bench.run.run``;
what it returns, turned into messages and an exit code. Ctrl-C keeps what was measured, marked
interrupted."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.cluster import TRANSPORTS
from bench.commands.common import (
    Subparsers,
    add_cluster_arguments,
    amount,
    cluster_options,
    command,
    non_negative_int,
    positive_int,
    redact,
    secrets_of,
    size,
)
from bench.corpus import catalog
from bench.corpus.sampling import DEFAULT_SIZE, Sampling
from bench.errors import Terminated, exit_code
from bench.profiles import HISTORY_FRAME, PROFILES
from bench.progress import say
from bench.run.options import S3_BUCKET, ClientOptions, ReadingOptions, RunOptions

EXIT_FAILED = 1


def options_from(args: argparse.Namespace) -> RunOptions:
    """The run the flags ask for."""
    return RunOptions(
        profile=args.profile,
        codecs=tuple(args.codec or ()),
        corpora=tuple(args.corpus or ()),
        rounds=args.rounds,
        seed=args.seed,
        sampling=Sampling(size=args.sample, seed=args.sample_seed),
        dictionaries=Path(args.dictionaries) if args.dictionaries else None,
        out=Path(args.out) if args.out else None,
        force=args.force,
        cluster=cluster_options(args),
        client=ClientOptions(
            run=_chosen(args.client, args.no_client),
            rounds=args.client_rounds,
            per_bucket=args.client_per_bucket,
            concurrency=args.concurrency,
            both_transports=args.grpc_compression == "both",
            task_queue_prefix=args.task_queue_prefix,
            storage_thresholds=()
            if args.no_storage
            else (tuple(args.storage_threshold) if args.storage_threshold else None),
            s3_endpoint=args.s3_endpoint,
            s3_bucket=args.s3_bucket,
        ),
        reading=ReadingOptions(
            run=_chosen(args.reading, args.no_reading),
            rounds=args.reading_rounds,
            history_sizes=tuple(args.history_size or ()),
            ui=not args.no_ui,
            ui_url=args.ui_url,
            codec_endpoint=args.codec_endpoint,
        ),
        kms_delay_ms=args.kms_delay_ms,
        command=("codec-bench", *redact(args.argv, secrets_of(args))),
    )


def _chosen(on: bool, off: bool) -> bool | None:
    """``--no-X`` wins over ``--X``; neither leaves the layer to the profile."""
    return False if off else (True if on else None)


def cmd_run(args: argparse.Namespace) -> int:
    runs = args.runs or PROFILES[args.profile].runs
    if runs > 1:
        return _in_processes(args, runs)
    from bench.run import run  # the layers and the Temporal client load only for a run

    outcome = run(options_from(args))
    results, folder = outcome.results, outcome.folder
    if outcome.failure is not None:
        say(f"codec-bench: error: {outcome.failure}; what was measured is in {folder}")
        return EXIT_FAILED
    if outcome.stopped is not None:
        how = "stopped by SIGTERM" if exit_code(outcome.stopped) == 143 else "interrupted"
        say(
            f"codec-bench: {how} after {results.rounds_completed} of {results.rounds_planned} "
            f"rounds; what was measured is in {folder}"
        )
        return exit_code(outcome.stopped)
    from bench.outputs.verdict import answer_text

    print(answer_text(results))
    print(f"results: {(folder / 'results.json').resolve()}\nreport:  {outcome.report.resolve()}")
    return 0


def _in_processes(args: argparse.Namespace, runs: int) -> int:
    """``runs`` runs, each in a process of its own, one after another, into ``OUT/run-N``.
    A run that fails or is stopped ends the series with its exit code; what was measured stays.
    The child runs in a session of its own, so Ctrl-C or SIGTERM reaches it once, passed on
    from here (a second signal would break off its cleanup), and none outlives this process."""
    out = (
        Path(args.out)
        if args.out
        else Path("results") / time.strftime("%Y%m%d-%H%M%S-series", time.gmtime())
    )
    for index in range(1, runs + 1):
        folder = out / f"run-{index}"
        say(f"codec-bench: run {index} of {runs} into {folder}")
        child = subprocess.Popen(
            [sys.executable, "-m", "bench.cli", *args.argv, "--runs", "1", "--out", str(folder)],
            start_new_session=True,
        )
        try:
            code = child.wait()
        except KeyboardInterrupt as stop:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, signal.SIG_IGN)  # wait out the child's cleanup
            child.send_signal(signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT)
            child.wait()
            say(f"codec-bench: stopped in run {index} of {runs}; what was measured is in {out}")
            return exit_code(stop)
        if code:
            return code
    print(f"results: {out.resolve()} ({runs} runs; compare takes the folder as one side)")
    return 0


def history_size(text: str) -> int:
    """``--history-size``: a history holds its input's two payloads and its result besides
    its signals."""
    count = positive_int(text)
    if count < HISTORY_FRAME + 1:
        raise argparse.ArgumentTypeError(f"a history holds at least {HISTORY_FRAME + 1} payloads")
    return count


def add_parser(sub: Subparsers) -> None:
    run = command(sub, "run", "measure codecs over corpora; write results and a report")
    run.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="quick",
        help="quick: defaults with and without AES; full: levels and all corpora; ci: "
        "defaults in-process only, for a speed gate",
    )
    run.add_argument(
        "--codec",
        action="append",
        help="codec spec or package.module:factory (repeatable; replaces the profile's)",
    )
    run.add_argument(
        "--corpus",
        action="append",
        help=f"built-in name ({', '.join(catalog.BUILTIN)}) or corpus file (repeatable)",
    )
    run.add_argument("--rounds", type=positive_int, help="measured rounds (default: the profile's)")
    run.add_argument(
        "--runs",
        type=positive_int,
        help="runs, each in its own process, into OUT/run-N (default: the profile's: 4 for "
        "ci, 1 otherwise); compare takes OUT as one side",
    )
    run.add_argument("--seed", type=int, default=0, help="seed of the case order")
    run.add_argument(
        "--sample",
        type=non_negative_int,
        default=DEFAULT_SIZE,
        help="payloads timed from a larger corpus file, drawn stratified by size bucket and "
        "payload type (its sizes are still measured over every payload); 0: time them all",
    )
    run.add_argument("--sample-seed", type=int, default=1, help="seed that draws the sample")
    run.add_argument(
        "--dictionaries",
        help="folder of zstd dictionaries (codec-bench dict train) for specs like "
        "zstd:3:dict=NAME; every layer, worker and codec server loads it",
    )
    run.add_argument("--out", help="output folder (default results/<run-id>/)")
    run.add_argument("--force", action="store_true", help="write into a non-empty --out")
    _add_client_arguments(run)
    _add_reading_arguments(run)
    run.set_defaults(run=cmd_run)


def _add_client_arguments(run: argparse.ArgumentParser) -> None:
    client = run.add_argument_group(
        "client layer", "a real client, server and worker; default: an embedded dev server"
    )
    client.add_argument(
        "--no-client",
        action="store_true",
        help="skip the client layer (with --no-reading, no Temporal server is needed)",
    )
    client.add_argument(
        "--client", action="store_true", help="run the client layer in a profile that skips it"
    )
    add_cluster_arguments(
        client,
        address_help="HOST:PORT of an existing cluster instead of the embedded one",
        transports=(*TRANSPORTS, "both"),
    )
    client.add_argument(
        "--concurrency", type=positive_int, help="workflows in flight for throughput"
    )
    client.add_argument("--client-rounds", type=positive_int, help="client-layer rounds")
    client.add_argument("--client-per-bucket", type=positive_int, help="payloads per size bucket")
    client.add_argument(
        "--task-queue-prefix",
        help="task queues PREFIX-N (default: the run id); lets workers on other machines join",
    )
    client.add_argument(
        "--storage-threshold",
        type=size,
        action="append",
        help="also run each codec with external storage (S3) for payloads of at least this size "
        "after the codec, e.g. 256KiB (repeatable; default: the profile's)",
    )
    client.add_argument("--no-storage", action="store_true", help="no external-storage routes")
    client.add_argument(
        "--s3-endpoint",
        help="an S3 API (http(s)://HOST:PORT) for external storage instead of a local moto "
        "server; credentials from the AWS environment",
    )
    client.add_argument(
        "--s3-bucket", default=S3_BUCKET, help="bucket for offloaded payloads (must exist)"
    )
    run.add_argument(
        "--kms-delay-ms",
        type=amount,
        default=0.0,
        help="envelope@aws-kms without PAYLOAD_CODEC_KMS_KEY_ID runs against a local KMS "
        "(moto); add this much to each of its calls, as a KMS that far away would",
    )


def _add_reading_arguments(run: argparse.ArgumentParser) -> None:
    reading = run.add_argument_group(
        "reading layer",
        "histories read through the codec server by the temporal CLI and the Web UI",
    )
    reading.add_argument(
        "--no-reading",
        action="store_true",
        help="skip the reading layer (with --no-client, no Temporal server is needed)",
    )
    reading.add_argument(
        "--reading", action="store_true", help="run the reading layer in a profile that skips it"
    )
    reading.add_argument("--reading-rounds", type=positive_int, help="reading-layer rounds")
    reading.add_argument(
        "--history-size",
        type=history_size,
        action="append",
        help="payloads per history read (repeatable; default: the profile's)",
    )
    reading.add_argument("--no-ui", action="store_true", help="do not open the Web UI")
    reading.add_argument(
        "--ui-url",
        help="Web UI of the --address cluster (its origin must be allowed by the codec server)",
    )
    reading.add_argument(
        "--codec-endpoint",
        help="an existing codec server (http://HOST:PORT) for the one codec measured, instead of "
        "one started here",
    )
