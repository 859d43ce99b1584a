# Build the Windows installer of reporter-app (run from anywhere, in PowerShell, on Windows 10/11 x64):
#
#   powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1
#
# Needs: Python 3.11 x64 on PATH (py launcher or python.exe), Inno Setup 6 (iscc.exe on PATH or in its default
# folder). Makes .venv-build\ with `pip install -e .[build]`, runs installer\reporter-app.spec (dist\reporter-app\:
# reporter-app.exe, reporter-app-cli.exe, _internal\), then Inno Setup (dist\reporter-app-VERSION-windows-x64-setup.exe).
# Signing (optional): set REPORTER_APP_SIGNTOOL to a full signtool command line without the file, e.g.
#   $env:REPORTER_APP_SIGNTOOL = 'signtool sign /fd sha256 /tr http://timestamp.digicert.com /td sha256 /a'
$ErrorActionPreference = "Stop"
$repo = Resolve-Path (Join-Path $PSScriptRoot "..\..")
Set-Location $repo
$started = Get-Date

$venv = Join-Path $repo ".venv-build"
if (-not (Test-Path (Join-Path $venv "Scripts\python.exe"))) {
    if (Get-Command py -ErrorAction SilentlyContinue) { py -3.11 -m venv $venv } else { python -m venv $venv }
}
$python = Join-Path $venv "Scripts\python.exe"
& $python -m pip install --quiet --disable-pip-version-check -e ".[build]"
if ($LASTEXITCODE -ne 0) { throw "pip install failed" }

& $python -m PyInstaller --noconfirm --clean --log-level WARN installer\reporter-app.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }
$version = (& dist\reporter-app\reporter-app-cli.exe --version)
Write-Host "bundle: $version"

if ($env:REPORTER_APP_SIGNTOOL) {
    foreach ($exe in "dist\reporter-app\reporter-app.exe", "dist\reporter-app\reporter-app-cli.exe") {
        cmd /c "$env:REPORTER_APP_SIGNTOOL `"$exe`""
        if ($LASTEXITCODE -ne 0) { throw "signing $exe failed" }
    }
}

$iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $iscc) { $iscc = Join-Path ${env:ProgramFiles(x86)} "Inno Setup 6\ISCC.exe" }
if (-not (Test-Path $iscc)) { throw "Inno Setup 6 not found (winget install JRSoftware.InnoSetup)" }
$appVersion = (& $python -c "import reporter_app; print(reporter_app.__version__)")
$signArg = @()
if ($env:REPORTER_APP_SIGNTOOL) { $signArg = @("/Ssigntool=$env:REPORTER_APP_SIGNTOOL `$f", "/DSign") }
& $iscc /Q "/DAppVersion=$appVersion" @signArg installer\windows\reporter-app.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }

$bundle = (Get-ChildItem dist\reporter-app -Recurse -File | Measure-Object Length -Sum).Sum / 1MB
$setup = Get-Item "dist\reporter-app-$appVersion-windows-x64-setup.exe"
"bundle {0:N1} MB, installer {1:N1} MB ({2}), {3:N0} s" -f $bundle, ($setup.Length / 1MB), $setup.Name, ((Get-Date) - $started).TotalSeconds
