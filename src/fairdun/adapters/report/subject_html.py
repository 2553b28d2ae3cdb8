"""A data subject's export as one readable, self-contained HTML page (PIPL Art. 45): the same content as the JSON
export, section by section, headings in Chinese and English, on the shared page shell (``report.html.page``).
Every value passes through the shell's escaping; nothing is fetched from anywhere."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from fairdun.adapters.report.html import _esc, page

SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("party_record", "个人档案", "Your record"),
    ("contact_points", "联系方式", "Contact details"),
    ("identity", "身份信息", "Identity"),
    ("consents", "同意记录", "Consents"),
    ("refusals", "拒绝联系记录", "Refusals of contact"),
    ("opt_outs", "退订的渠道", "Channels opted out of"),
    ("designated_contacts", "指定联系人（仅列关系）", "People you designated (relationship only)"),
    ("loans", "借款", "Loans"),
    ("cases", "催收案件", "Collection cases"),
    ("contact_history", "联系记录", "Contact history"),
    ("planned_contacts", "计划联系及合规判定", "Planned contacts and the gate's decisions"),
    ("outbox", "发送的消息", "Messages"),
    ("access_log", "谁查看了您的信息", "Who read your data"),
    ("not_included", "未包含的内容", "What is not included, and why"),
)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | dict):
        return f"<code>{_esc(json.dumps(value, ensure_ascii=False, sort_keys=True))}</code>"
    return _esc(value)


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    head = "".join(f'<th scope="col">{_esc(c)}</th>' for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(row.get(c))}</td>" for c in columns) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(key: str, zh: str, en: str, value: Any) -> str:
    heading = f'<h2 id="{_esc(key)}">{_esc(zh)} / {_esc(en)}</h2>'
    if not value:
        content = "<p>无 / None held.</p>"
    elif key == "not_included":
        content = "<ul>" + "".join(f"<li>{_esc(v)}</li>" for v in value) + "</ul>"
    elif key == "loans":
        parts = []
        for loan in value:
            summary = {k: v for k, v in loan.items() if k not in ("schedule", "events")}
            parts.append(f"<h3>{_esc(loan['id'])}</h3>{_table([summary])}")
            parts.append(f"<h4>还款计划 / Schedule</h4>{_table(loan['schedule'])}" if loan["schedule"] else "")
            events = [{"seq": e["seq"], "recorded_at": e["recorded_at"], **e["event"]} for e in loan["events"]]
            parts.append(f"<h4>账务事件 / Ledger events</h4>{_table(events)}" if events else "")
        content = "".join(parts)
    elif isinstance(value, Mapping):
        content = _table([value])
    else:
        content = _table([v if isinstance(v, Mapping) else {"value": v} for v in value])
    return f'<section aria-labelledby="{_esc(key)}">{heading}{content}</section>'


def subject_page(document: Mapping[str, Any], generated_at: datetime) -> str:
    """The export ``document`` (``fairdun.application.subject_rights.export_subject``) as an HTML page."""
    header = [
        f'<p class="meta">数据主体 / Data subject: <strong>{_esc(document["party"])}</strong> · '
        f"格式 / Format: {_esc(document['format'])} v{_esc(document['version'])}</p>"
    ]
    if document.get("erasure"):
        header.append(
            f'<p class="meta">已删除 / Erased: {_esc(document["erasure"]["erased_at"])} — '
            "个人信息已无法读取 / personal data can no longer be read</p>"
        )
    sections = [_section(key, zh, en, document.get(key)) for key, zh, en in SECTIONS]
    return page("个人信息副本 / Your personal data", generated_at, header, sections)
