"""Command line: `flask --app app init | demo | create-user | audit ... | keys ... | backup ... | restore`."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select

from . import audit, clock, suites
from .audit.service import checkpoint, ensure_head
from .audit.verify import ExportFileError, export_checkpoints, parse_export, verify_log
from .auth.passwords import hash_password, password_problem
from .auth.roles import ALL_ROLES
from .backup import (
    BackupError, check_backup_files, export_keys, fresh_dir, install_keys, make_backup, restore_files, verify_backup,
)
from .custody import service as custody
from .custody.service import handover, is_unsealed
from .custody.shares import LINES, ShareError, sheet_lines
from .demo import DEMO_PASSWORD, demo_logins, load_demo
from .extensions import db
from .filemodes import secure_tree
from .identity import adopt_identity
from .keys import KeyError_, create_keys, read_instance_file
from .models import Department, Section, TaskKey, User
from .sealing import envelope


def init_app(app: Flask) -> None:
    app.cli.add_command(init_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(audit_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(restore_command)
    app.cli.add_command(serve_command)


@click.command("init")
@click.option("--crypto", type=click.Choice(["intl", "sm"]), default=None,
              help="Crypto suite, first run only: intl (AES-256-GCM, SHA-256; default) or sm (商用密码: SM4-GCM, SM3).")
@with_appcontext
def init_command(crypto):
    """Create the keys (first run only), migrate the database, start the access log."""
    key_dir = Path(current_app.config["KEY_DIR"])
    chosen = read_instance_file(key_dir)[1] if (key_dir / "instance.json").exists() else None
    if crypto and chosen and crypto != chosen:
        raise click.ClickException(f"本实例已用 {chosen} 密码套件初始化，不能改为 {crypto}：已封存的数据和访问日志都按原套件生成。")
    made = create_keys(key_dir, crypto or "intl")
    for name in made:
        click.echo(f"created key {key_dir / name} (mode 0600)")
    if "secret_key" in made:
        current_app.config["SECRET_KEY"] = (key_dir / "secret_key").read_bytes()
    upgrade()
    ensure_head()
    instance_id, written = adopt_identity(key_dir, current_app.extensions["ssj.keys"]())
    db.session.commit()
    click.echo("database is up to date")
    # What existed before (an older instance, an unpacked copy) is tightened too (SPEC §4 "Files").
    fixed = secure_tree(Path(current_app.instance_path))
    if key_dir.resolve() != Path(current_app.instance_path).resolve() and not key_dir.is_relative_to(current_app.instance_path):
        fixed += secure_tree(key_dir)
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        database = Path(uri[len("sqlite:///"):])
        for path in (database, *database.parent.glob(database.name + "-*")):
            fixed += secure_tree(path)
    if fixed:
        click.echo(f"restricted {len(fixed)} files and directories to the service account (0700/0600)")
    if written:
        click.echo(f"instance id {instance_id} (in the database and in {key_dir / 'instance.json'})")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only load when the database holds no users yet.")
@click.option("--targets", default=3000, show_default=True, help="Number of employers to generate.")
def demo_command(if_empty: bool, targets: int):
    """Load the demo county: departments, sections, users, directories."""
    if if_empty and db.session.execute(select(User.id).limit(1)).first() is not None:
        click.echo("演示数据已存在，保留现有数据。")
    else:
        added = load_demo(target_count=targets)
        db.session.commit()
        summary = "，".join(f"{k} {v}" for k, v in added.items()) or "没有需要添加的内容"
        click.echo(f"演示数据已载入：{summary}")
    click.echo(f"\n演示账号（密码均为 {DEMO_PASSWORD}）：")
    for username, role_label, where in demo_logins():
        # Chinese characters take two columns in a terminal: pad by display width.
        pad = 12 - 2 * len(role_label)
        click.echo(f"  {username:<14}{role_label}{' ' * max(pad, 1)}{where}")


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True, help="Name shown in the UI and the log.")
@click.option("--role", "roles", multiple=True, required=True, help="admin, staff, section_head, ...")
@click.option("--department", required=True, help="Department code.")
@click.option("--section", default=None, help="Section code.")
@click.password_option()
def create_user_command(username, display_name, roles, department, section, password):
    """Create a user (e.g. the first admin)."""
    bad = set(roles) - set(ALL_ROLES)
    if bad:
        raise click.UsageError(f"unknown roles: {', '.join(sorted(bad))}; choose from {', '.join(ALL_ROLES)}")
    problem = password_problem(password, current_app.config["PASSWORD_MIN_LENGTH"], username=username)
    if problem:
        raise click.UsageError(problem)
    dept = db.session.execute(select(Department).where(Department.code == department)).scalar_one_or_none()
    if dept is None:
        raise click.UsageError(f"no department with code {department}")
    sec = None
    if section:
        sec = db.session.execute(
            select(Section).where(Section.code == section, Section.department_id == dept.id)
        ).scalar_one_or_none()
        if sec is None:
            raise click.UsageError(f"no section {section} in department {department}")
    if db.session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise click.UsageError(f"user {username} exists")
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        department=dept,
        section=sec,
    )
    user.set_roles(roles)
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", objects={"user": user.id, "roles": sorted(roles)}, username="cli")
    db.session.commit()
    click.echo(f"created user {username}")


audit_cli = AppGroup("audit", help="The tamper-evident access log (SPEC §5).")


class _CannotCheck(click.ClickException):
    """The check could not be run (bad file, bad path): exit 2, unlike a broken log (exit 1)."""

    exit_code = 2


@audit_cli.command("verify")
@click.option(
    "--against",
    "against_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A file written by `audit export-checkpoints`, kept outside the system.",
)
def audit_verify(against_path):
    """Verify the chain, MACs, head row and signed checkpoints; exit 1 on the first problem."""
    against = None
    if against_path is not None:
        try:
            against = parse_export(against_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise _CannotCheck(
                f"cannot read {against_path}: {exc}\n无法读取文件 {against_path}，请检查路径和读取权限。"
            )
        except ExportFileError as exc:
            raise _CannotCheck(f"{against_path}: {exc}\n{exc.message_zh}")
    report = verify_log(against)
    click.echo(report.text())
    for en, zh in report.notes:
        click.echo(f"{en}\n{zh}")
    sys.exit(0 if report.ok else 1)


@audit_cli.command("checkpoint")
def audit_checkpoint():
    """Sign the current head of the log now."""
    cp = checkpoint()
    db.session.commit()
    click.echo(f"checkpoint seq={cp.seq} head={cp.head_hash} signature={cp.signature}")


@audit_cli.command("export-checkpoints")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this new file (never overwritten) instead of standard output.",
)
@click.option("--sign-now", is_flag=True, help="Sign the current head first, so the export covers the log up to now.")
def audit_export_checkpoints(output, sign_now):
    """Write every signed checkpoint and the public key as JSON, for the discipline office to keep."""
    if output is not None and output.exists():
        # An earlier export may be the only copy kept outside the system.
        raise _CannotCheck(f"{output} exists; choose a new file name\n文件 {output} 已存在，为免覆盖已留存的导出，请换一个文件名。")
    if sign_now:
        cp = checkpoint()
        db.session.commit()
        click.echo(f"signed checkpoint seq={cp.seq}", err=True)
    doc, problems = export_checkpoints()
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            with output.open("x", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise _CannotCheck(f"cannot write {output}: {exc}\n无法写入文件 {output}，请检查目录是否存在及写入权限。")
        click.echo(f"wrote {len(doc['checkpoints'])} checkpoints to {output}", err=True)
    for p in problems:
        click.echo(f"left out: {p}\n未导出：{p.zh}", err=True)
    sys.exit(1 if problems else 0)


keys_cli = AppGroup("keys", help="The keys outside the database.")


@keys_cli.command("rotate")
def keys_rotate():
    """Replace the key-encryption key and rewrap every task's data key with it."""
    key_dir = Path(current_app.config["KEY_DIR"])
    if current_app.extensions["ssj.keys"]().sealed:
        raise click.ClickException("封存模式下不能在命令行轮换密钥：本命令所在的进程没有 KEK。"
                                   "请在维护窗口按 docs/operations.md 的“封存模式”一节操作。")
    pending = key_dir / "kek.key.new"
    if not pending.exists():  # an interrupted rotation leaves this file: reuse it
        fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(suites.new_key(current_app.extensions["ssj.keys"]().crypto_suite))
            fh.flush()
            os.fsync(fh.fileno())
    keys = current_app.extensions["ssj.keys"]()
    new_kek = pending.read_bytes()
    new_id = envelope.kek_id(new_kek)
    count = 0
    for row in db.session.execute(select(TaskKey)).scalars():
        if row.kek_id == new_id:
            continue
        old = keys.kek_by_id(row.kek_id)
        if old is None:
            raise click.ClickException(f"task {row.task_id}: no key file for KEK {row.kek_id}; nothing changed")
        row.wrapped_key = envelope.rewrap(old, new_kek, row.task_id, row.wrapped_key)
        row.kek_id = new_id
        count += 1
    audit.record("keys_rotated", objects={"rewrapped": count, "new_kek_id": new_id}, username="cli")
    db.session.commit()
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    current = key_dir / "kek.key"
    retired = key_dir / f"kek.key.retired-{stamp}"
    os.replace(current, retired)
    os.replace(pending, current)
    click.echo(f"rewrapped {count} data keys; new KEK {new_id}; old KEK kept as {retired.name}")
    click.echo("Back up the new kek.key now. Delete the retired file only once no backup needs it.")


@keys_cli.command("export")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def keys_export(dest):
    """Copy every key file to DEST (a new directory on offline media) with their SHA-256."""
    try:
        manifest = export_keys(Path(current_app.config["KEY_DIR"]), dest)
    except BackupError as exc:
        raise _CannotCheck(str(exc))
    click.echo(f"已导出 {len(manifest.files)} 个密钥文件到 {dest}（目录 0700，文件 0600）。")
    click.echo("请把这个目录存入离线介质，与数据库备份分开保管，然后从本机删除这份副本。")


class _BackupGroup(AppGroup):
    """`flask backup DEST` makes a backup; `flask backup verify SRC` checks one."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["create", *args]
        return super().parse_args(ctx, args)


backup_cli = _BackupGroup("backup", help="Backups: `backup DEST` makes one, `backup verify SRC` restores it aside and checks it.")


@backup_cli.command("create")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def backup_create(dest):
    """Write a backup (database, evidence, current exports, manifest; never keys) to the new directory DEST."""
    try:
        manifest, digest = make_backup(dest)
    except BackupError as exc:
        raise _CannotCheck(str(exc))
    counts = {k: sum(1 for rel in manifest.files if rel.startswith(k + "/")) for k in ("evidence", "exports")}
    audit.record("backup_created", username="cli",
                 objects={"manifest_sha256": digest, "files": len(manifest.files), **counts})
    db.session.commit()
    click.echo(f"备份已写入 {dest}：数据库 1 个、证据文件 {counts['evidence']} 个、导出文件 {counts['exports']} 个。")
    click.echo(f"manifest.json SHA-256: {digest}（请记在备份登记簿上）")
    click.echo("密钥不在备份中：请另行用 `flask --app app keys export` 导出到离线介质。")


@backup_cli.command("verify")
@click.argument("src", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--keys", "keys_dir", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="A key directory (e.g. from `keys export`); default: this instance's keys.")
def backup_verify(src, keys_dir):
    """Restore SRC into a temporary instance and check the log chain, sealed data and evidence hashes."""
    key_dir = keys_dir or Path(current_app.config["KEY_DIR"])
    opened = None
    if keys_dir is None and current_app.extensions["ssj.keys"]().sealed:
        opened = _console_unseal()
    report = verify_backup(src, key_dir, current_app.config["SQLALCHEMY_DATABASE_URI"], opened)
    for fact in report.facts:
        click.echo(f"  {fact}")
    for problem in report.problems:
        click.echo(f"  问题：{problem}")
    click.echo("OK: 备份可以完整恢复。" if report.ok else f"BROKEN: 备份有 {len(report.problems)} 处问题，不能依赖它恢复。")
    sys.exit(0 if report.ok else 1)


@click.command("restore")
@with_appcontext
@click.argument("src", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--keys", "keys_src", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="A directory written by `keys export`, copied into the (empty) key directory first.")
def restore_command(src, keys_src):
    """Restore a backup made by `backup` into this instance, whose database must be empty."""
    key_dir = Path(current_app.config["KEY_DIR"])
    try:
        manifest = check_backup_files(src)
        if keys_src is not None:
            for name in install_keys(keys_src, key_dir):
                click.echo(f"已放入密钥 {key_dir / name}")
        try:
            keys = current_app.extensions["ssj.keys"]()
        except KeyError_ as exc:
            raise BackupError(str(exc))
        wanted = manifest.doc.get("instance_id")
        if wanted and keys.instance_id != wanted:
            raise BackupError(f"备份属于实例 {wanted}，而密钥目录 {key_dir} 的密钥属于 {keys.instance_id}。"
                              "请放入备份所属实例的密钥（keys export 的副本）；未恢复任何内容。")
        # Sealed keys hold no KEK here: it is checked against the data when the custodians unseal.
        absent = [] if keys.sealed else [k for k in manifest.doc.get("kek_ids", []) if keys.kek_by_id(k) is None]
        if absent:
            raise BackupError(f"备份中的数据由密钥 {', '.join(absent)} 加密，密钥目录 {key_dir} 中没有。"
                              "请先放入备份时的密钥（keys export 的副本）；未恢复任何内容。")
        counts = restore_files(src, manifest, Path(current_app.instance_path),
                               current_app.config["SQLALCHEMY_DATABASE_URI"])
    except BackupError as exc:
        raise _CannotCheck(str(exc))
    db.session.remove()
    db.engine.dispose()  # the engine may have seen the empty database before the copy
    upgrade()
    audit.record("backup_restored", username="cli",
                 objects={"backup_created_at": manifest.doc.get("created_at"), **counts})
    db.session.commit()
    click.echo(f"已从 {src} 恢复：数据库、证据文件 {counts['evidence']} 个、导出文件 {counts['exports']} 个。")
    click.echo("请运行 `flask --app app audit verify` 核验访问日志，然后启动服务。")


@keys_cli.command("split")
@click.option("--shares", "count", type=int, required=True, help="How many custodians hold a share (N).")
@click.option("--threshold", type=int, required=True, help="How many shares open the keys (K).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("share-sheets"),
              show_default=True, help="A new directory for the printable share sheets.")
@click.option("--custodian", "custodians", multiple=True, help="Custodian names, in share order (optional).")
def keys_split(count, threshold, out_dir, custodians):
    """Sealed mode: share the keys k-of-n among custodians; afterwards no file holds the KEK."""
    key_dir = Path(current_app.config["KEY_DIR"])
    keys = current_app.extensions["ssj.keys"]()
    try:
        fresh_dir(out_dir, "份额单")
        doc, parts = custody.split(key_dir, keys, threshold, count, list(custodians))
    except (BackupError, custody.CustodyError) as exc:
        raise _CannotCheck(str(exc))
    sheet = current_app.jinja_env.get_template("custody/share_sheet.html")
    for share in parts:
        # Rendered without a request (no CSRF token or user in a file to print).
        html = sheet.render(share=share, lines=sheet_lines(share), count=count,
                               threshold=threshold, custodian=doc["custodians"][str(share.index)],
                               instance_id=keys.instance_id, created_at=doc["created_at"])
        path = out_dir / f"share-{share.index}.html"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
    audit.record("keys_split", username="cli",
                 objects={"set_id": doc["set_id"], "shares": count, "threshold": threshold,
                          "custodians": [doc["custodians"][str(i)] for i in range(1, count + 1)]})
    db.session.commit()
    click.echo(f"已进入封存模式：{count} 份、门限 {threshold}，份额组 {doc['set_id']}。")
    click.echo(f"份额单在 {out_dir}/share-1.html … share-{count}.html（A4，逐行带校验码）。")
    click.echo("请立即逐份打印、装入信封交给保管人，然后删除这些文件（shred -u），并销毁此前 keys export 的副本中的 kek.key 和 audit.key。")
    click.echo("重启服务后系统处于“系统已封存”状态，需 " + str(threshold) + " 位保管人在服务器本机输入份额（flask --app app serve）。")


@click.command("serve")
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="host:port, as gunicorn's --bind.")
@click.option("--workers", default=4, show_default=True)
@click.option("--threads", default=4, show_default=True)
@with_appcontext
def serve_command(bind, workers, threads):
    """Run gunicorn; a sealed instance first serves only the unseal page, in this one process.

    Once K custodians have entered their shares, the opened keys are written
    into a pipe and this process execs gunicorn --preload with the pipe's
    read end: the master reads them into memory before forking, so every
    worker (and every worker it restarts) has them, and no file ever did.
    """
    app = current_app._get_current_object()
    argv = ["gunicorn", "--workers", str(workers), "--threads", str(threads), "--bind", bind]
    env = dict(os.environ)
    if app.extensions["ssj.keys"]().sealed and not is_unsealed(app):
        from werkzeug.serving import make_server

        host, _, port = bind.rpartition(":")
        server = make_server(host or "127.0.0.1", int(port), app, threaded=False)
        click.echo(f"系统已封存：请保管人在服务器本机打开 http://127.0.0.1:{port}/unseal 输入份额。", err=True)
        while not is_unsealed(app):
            server.handle_request()
        server.server_close()
        read_end, write_end = os.pipe()
        os.write(write_end, handover(app))
        os.close(write_end)
        os.set_inheritable(read_end, True)
        env["SSJ_CUSTODY_FD"] = str(read_end)
        argv.append("--preload")
        click.echo("已解封，启动 gunicorn。", err=True)
    argv.append("app:app")
    db.session.remove()
    db.engine.dispose()
    exe = Path(sys.executable).with_name("gunicorn")
    os.execve(str(exe) if exe.exists() else argv[0], argv, env)


def _console_unseal() -> dict:
    """Sealed mode on the server console: K custodians type their shares here (never over a network)."""
    app = current_app._get_current_object()
    keys = app.extensions["ssj.keys"]()
    click.echo(f"系统处于封存模式：需要 {keys.custody['threshold']} 位保管人在本控制台输入份额。", err=True)
    while not custody.is_unsealed(app):
        name = click.prompt("保管人姓名", err=True)
        index = click.prompt("份额编号", type=int, err=True)
        lines = [click.prompt(f"第 {n} 行（行号 8位 校验码）", err=True) for n in range(1, LINES + 1)]
        try:
            entry = custody.enter_share(app, keys, name, index, "\n".join(lines))
        except (ShareError, custody.CustodyError) as exc:
            audit.record("custody_share_rejected", outcome="denied", reason="bad_share", username="cli",
                         objects={"custodian": name, "share": index})
            db.session.commit()
            click.echo(str(exc), err=True)
            continue
        audit.record("custody_share_entered", username="cli", objects={
            "custodian": name, "share": index, "entered": entry.accepted, "threshold": entry.threshold})
        db.session.commit()
        click.echo(f"已接受第 {index} 份（{entry.accepted}/{entry.threshold}）。", err=True)
    return app.extensions["ssj.unsealed"]
