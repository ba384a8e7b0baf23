"""Getters only a Windows VM can answer (registry, UI Automation, NTFS, Appx).

On a Windows VM they call the stock server exactly as WAA's client does; on any other platform
they raise ``WindowsOnly``, naming the getter and why, so the task is reported, not mis-scored.
"""

from __future__ import annotations

from typing import Any

from ..context import EvalContext
from ..registry import WindowsOnly, getter, getter_facts

REGISTRY = "reads the Windows registry"
CLOCK = "asks the Windows Clock app through UI Automation"
EXPLORER = "asks File Explorer through UI Automation"


def windows_getter(name: str, why: str):  # noqa: ANN201 - a decorator
    """Register a getter that only a Windows VM answers, with why (reported before an agent acts)."""
    return getter(name, platform="windows", why=why)


def _require_windows(ctx: EvalContext, name: str) -> None:
    if ctx.vm_platform() != "windows":
        raise WindowsOnly(name, getter_facts(name).why or "uses a Windows-only API")


# Clock probes answer WAA's strings "True"/"False"; the others a bool.
_STRING_ANSWERS = {"check_if_timer_started", "check_if_world_clock_exists"}


def _register_probe(name: str, path: str, keys: tuple[str, ...], why: str) -> None:
    @windows_getter(name, why)
    def probe(ctx: EvalContext, spec: dict[str, Any]) -> Any:
        _require_windows(ctx, name)
        body = {k: spec[k] for k in keys if k in spec}
        if name == "is_details_view":
            body = {"path": spec.get("folder_path", spec.get("path"))}
        answer = ctx.client.ui_probe(path, body)
        return str(answer) if name in _STRING_ANSWERS else answer


_register_probe("check_if_timer_started", "/check_if_timer_started", ("hours", "minutes", "seconds"), CLOCK)
_register_probe("check_if_world_clock_exists", "/check_if_world_clock_exists", ("city", "country"), CLOCK)
_register_probe("is_details_view", "/is_details_view", ("path",), EXPLORER)
_register_probe("are_files_sorted_by_modified_time", "/are_files_sorted_by_modified_time", ("directory",), EXPLORER)
_register_probe("is_directory_read_only_for_user", "/is_directory_read_only_for_user", ("directory", "user"),
                "reads NTFS ACLs")
_register_probe("are_all_images_tagged", "/are_all_images_tagged", ("directory", "tag"), "reads Windows image tags")


def _powershell(ctx: EvalContext, script: str) -> str:
    return ctx.client.execute(f'powershell -Command "{script}"').output.strip()


def _registry_value(ctx: EvalContext, path: str, name: str) -> str:
    return _powershell(ctx, f"Get-ItemPropertyValue -Path '{path}' -Name '{name}'")


@windows_getter("system_notifications", REGISTRY)
def system_notifications(ctx: EvalContext, spec: dict[str, Any]) -> str:
    _require_windows(ctx, "system_notifications")
    value = _registry_value(ctx, r"HKCU:\Software\Microsoft\Windows\CurrentVersion\PushNotifications", "ToastEnabled")
    return "True" if value == "0" else "False"


@windows_getter("desktop_background", REGISTRY)
def desktop_background(ctx: EvalContext, spec: dict[str, Any]) -> str:
    _require_windows(ctx, "desktop_background")
    return "True" if _registry_value(ctx, r"HKCU:\Control Panel\Desktop", "WallPaper") == "" else "False"


@windows_getter("system_timezone", "runs PowerShell Get-TimeZone")
def system_timezone(ctx: EvalContext, spec: dict[str, Any]) -> str:
    _require_windows(ctx, "system_timezone")
    return _powershell(ctx, "(Get-TimeZone).DisplayName")


@windows_getter("vm_library_folders", "reads Windows Libraries")
def vm_library_folders(ctx: EvalContext, spec: dict[str, Any]) -> Any:
    _require_windows(ctx, "vm_library_folders")
    return ctx.client.library_folders(spec["library_name"])


@windows_getter("validate_pwa_installed", "runs PowerShell Get-AppxPackage")
def validate_pwa_installed(ctx: EvalContext, spec: dict[str, Any]) -> str:
    _require_windows(ctx, "validate_pwa_installed")
    listing = _powershell(ctx, "Get-AppxPackage | Select-Object Name | ConvertTo-Json")
    return "app_installed" if "pwabuilder" in listing.lower() else "app_not_installed"


def _windows_only(name: str) -> None:
    # Not built: a registry decoder WAA has and arena-gym does not; unscorable on every VM until it is.
    @getter(name, needs="a Windows registry decoder",
            why=f"getter {name!r} decodes a Windows registry value, which arena-gym does not implement yet")
    def unavailable(ctx: EvalContext, spec: dict[str, Any]) -> Any:
        raise NotImplementedError(f"getter {name!r} (a Windows registry decoder) is not implemented yet")


for _name in ("night_light_state", "storage_sense_run_frequency", "default_browser",
              "active_hours_of_user_to_not_interrupt_for_windows_updates"):
    _windows_only(_name)
