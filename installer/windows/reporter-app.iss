; Inno Setup 6 script of reporter-app for Windows (x64). Build: installer\windows\build.ps1 (PyInstaller, then
;   iscc /DAppVersion=0.1.0 installer\windows\reporter-app.iss      -> dist\reporter-app-0.1.0-windows-x64-setup.exe
; from the repository root, after `pyinstaller installer\reporter-app.spec` made dist\reporter-app\.
;
; Install modes (the user picks in a dialog, or on the command line):
;   per user     /CURRENTUSER   %LOCALAPPDATA%\Programs\Reporter, no administrator rights, autostart in HKCU\...\Run
;   all users    /ALLUSERS      %ProgramFiles%\Reporter (administrator), autostart for everyone in HKLM\...\Run
; Unattended (IT roll-out):
;   reporter-app-0.1.0-windows-x64-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /ALLUSERS /NORESTART
;       /CONFIG="\\server\it\reporter-app.toml" /MERGETASKS="autostart" /LOG="%TEMP%\reporter-app-setup.log"
;   /CONFIG=FILE copies FILE to %PROGRAMDATA%\reporter-app\config.toml, the system config file (it may lock keys:
;   docs/configuration.md), and checks it with `reporter-app-cli.exe config check --system`. All-users mode only:
;   in per-user mode the file would be the user's to edit, so a lock would mean nothing.
; Uninstall: Settings > Apps, or "{app}\unins000.exe /VERYSILENT". It keeps the users' settings and reports and the
; administrator's %PROGRAMDATA%\reporter-app\config.toml.

#define AppName "Reporter"
#define AppExe "reporter-app.exe"
#define AppCli "reporter-app-cli.exe"
#define SourceDir "..\..\dist\reporter-app"
#ifndef AppVersion
  ; The version resource PyInstaller embedded (installer\windows\version_info.txt): major.minor.patch.build
  #define AppVersion GetVersionNumbersString(AddBackslash(SourceDir) + AppExe)
#endif

[Setup]
; Never change AppId: it is how an update finds the installed copy (and the uninstaller its registry entry).
AppId={{6F3C2A7E-9B1D-4C55-8E0A-2D7B4F1C9A63}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=reporter-app
AppPublisherURL=https://example.com/reporter-app
AppSupportURL=https://example.com/reporter-app/docs/installing.md
VersionInfoVersion={#AppVersion}
; {autopf}: %ProgramFiles% in all-users mode, %LOCALAPPDATA%\Programs in per-user mode.
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per-user by default (no UAC prompt); the dialog, /ALLUSERS or /CURRENTUSER choose the other mode.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\dist
OutputBaseFilename=reporter-app-{#AppVersion}-windows-x64-setup
; Rendered from resources\icons\reporter-app.svg by installer\make_icons.py (the spec does it; build.ps1 too).
SetupIconFile=..\..\build\reporter-app\generated\reporter-app.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; Close a running Reporter (Restart Manager) before files are replaced; it is started again after an update when
; it was running (RestartApplications) only in interactive installs.
CloseApplications=yes
RestartApplications=no
SetupLogging=yes
#ifdef Sign
; build.ps1 /DSign /Ssigntool=...: sign the setup and the uninstaller.
SignTool=signtool
SignedUninstaller=yes
#endif
ChangesEnvironment=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "autostart"; Description: "Start {#AppName} when I sign in (recommended: the Ctrl+Alt+B shortcut works only while it runs)"; GroupDescription: "Start-up:"
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An update replaces the bundle whole: files a newer build no longer ships must not linger in _internal.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Report a problem, then follow what happens to it"
Name: "{autoprograms}\{#AppName} - Report a problem"; Filename: "{app}\{#AppExe}"; Parameters: "report --gui"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; HKA: HKLM in all-users mode (every user's sign-in), HKCU in per-user mode. Removed on uninstall.
Root: HKA; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "reporter-app"; ValueData: """{app}\{#AppExe}"""; Flags: uninsdeletevalue; Tasks: autostart
; An update that unticks the task removes an autostart entry an earlier install made.
Root: HKA; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueName: "reporter-app"; ValueType: none; Flags: deletevalue; Tasks: not autostart

[Run]
; A second launch of a running Reporter opens the report form in it, so this is harmless after an update.
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
; The tray app holds its files open: stop every copy of it (all users' in all-users mode) before removing them.
Filename: "{sys}\taskkill.exe"; Parameters: "/F /T /IM {#AppExe}"; Flags: runhidden; RunOnceId: "StopReporter"

[Code]
var
  ConfigSource: String;

function SystemConfigPath(): String;
begin
  { reporter_app/paths.py: %PROGRAMDATA%\reporter-app\config.toml }
  Result := ExpandConstant('{commonappdata}\reporter-app\config.toml');
end;

{ Runs after the install mode is known and before anything is copied; a non-empty result aborts the install with
  that message (also under /VERYSILENT, where it goes to the log and the exit code is non-zero). }
function PrepareToInstall(var NeedsRestart: Boolean): String;
var
  ResultCode: Integer;
begin
  Result := '';
  ConfigSource := ExpandConstant('{param:CONFIG|}');
  if ConfigSource <> '' then
  begin
    ConfigSource := ExpandFileName(ConfigSource);
    if not FileExists(ConfigSource) then
    begin
      Result := 'The configuration file given with /CONFIG does not exist: ' + ConfigSource;
      Exit;
    end;
    if not IsAdminInstallMode() then
    begin
      Result := '/CONFIG installs the administrator''s configuration for every user of this computer: ' +
        'run the installer as an administrator with /ALLUSERS.';
      Exit;
    end;
  end;
  { An update: stop the running copies (CloseApplications may not reach a tray app without windows). }
  Exec(ExpandConstant('{sys}\taskkill.exe'), '/F /T /IM {#AppExe}', '', SW_HIDE, ewWaitUntilTerminated, ResultCode);
end;

procedure InstallSystemConfig();
var
  Target: String;
  ResultCode: Integer;
begin
  Target := SystemConfigPath();
  if not ForceDirectories(ExtractFileDir(Target)) then
    RaiseException('Cannot create ' + ExtractFileDir(Target));
  if not FileCopy(ConfigSource, Target, False) then
    RaiseException('Cannot copy ' + ConfigSource + ' to ' + Target);
  Log('System config installed: ' + ConfigSource + ' -> ' + Target);
  { Ask the program itself: the same check `reporter-app-cli config check --system` an administrator runs. }
  if Exec(ExpandConstant('{app}\{#AppCli}'), 'config check --system', '', SW_HIDE, ewWaitUntilTerminated, ResultCode) then
  begin
    if ResultCode <> 0 then
    begin
      Log('config check --system failed with exit code ' + IntToStr(ResultCode));
      SuppressibleMsgBox('The configuration file ' + Target + ' has problems; Reporter will refuse to start until ' +
        'they are fixed. Run "' + ExpandConstant('{app}\{#AppCli}') + ' config check --system" to see them.',
        mbError, MB_OK, IDOK);
    end
    else
      Log('config check --system: OK');
  end
  else
    Log('could not run ' + ExpandConstant('{app}\{#AppCli}') + ': ' + SysErrorMessage(ResultCode));
end;

procedure CurStepChanged(CurStep: TSetupStep);
begin
  if (CurStep = ssPostInstall) and (ConfigSource <> '') then
    InstallSystemConfig();
end;
