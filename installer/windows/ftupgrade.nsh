; FlowTraq Upgrade - NSIS commands for CPack (see nsis.cmake). UNTESTED: written and
; reviewed without a Windows machine (README-install.md).
;
; Agent files: %ProgramData%\FlowTraq Upgrade\agent\ (agent.conf, agent.crt, agent.key,
; token, jobs\, logs\, staging\), readable by SYSTEM and Administrators only. The
; configuration is made once by `ftupgrade-agent init` and kept by upgrades and by the
; uninstaller (delete the folder by hand to start afresh).

!define FTU_AGENT_SERVICE "ftupgrade-agent"
!define FTU_AGENT_EXE "$INSTDIR\bin\ftupgrade-agent.exe"
!define FTU_AGENT_DIR "$APPDATA\FlowTraq Upgrade\agent"

; Inside CPack's Start-menu block (the folder the administrator chose, or none).
!macro FtuCreateIcons
  ; Wizard: a Start-menu entry when that component was installed.
  IfFileExists "$INSTDIR\bin\ftupgrade.exe" 0 ftu_no_wizard
    CreateShortCut "$SMPROGRAMS\$STARTMENU_FOLDER\FlowTraq Upgrade Wizard.lnk" "$INSTDIR\bin\ftupgrade.exe"
  ftu_no_wizard:
!macroend

!macro FtuDeleteIcons
  Delete "$SMPROGRAMS\$MUI_TEMP\FlowTraq Upgrade Wizard.lnk"
!macroend

!macro FtuInstall
  ; Agent: configuration once, then the service (automatic start, LocalSystem: it runs
  ; the vendor's msiexec installer, which needs administrator rights).
  IfFileExists "${FTU_AGENT_EXE}" 0 ftu_no_agent
    SetShellVarContext all
    CreateDirectory "${FTU_AGENT_DIR}"
    nsExec::ExecToLog 'icacls "${FTU_AGENT_DIR}" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F'
    Pop $0
    IfFileExists "${FTU_AGENT_DIR}\agent.conf" ftu_have_config 0
      nsExec::ExecToStack '"${FTU_AGENT_EXE}" init --config "${FTU_AGENT_DIR}\agent.conf" --backend windows --listen 0.0.0.0 --port 9650'
      Pop $0
      Pop $1
      StrCmp $0 "0" ftu_init_ok 0
        MessageBox MB_OK|MB_ICONSTOP "ftupgrade-agent init failed:$\r$\n$1" /SD IDOK
        Goto ftu_no_agent
      ftu_init_ok:
      MessageBox MB_OK|MB_ICONINFORMATION "The agent is set up. Give the wizard this node's$\r$\n$1$\r$\n(the token file is readable by Administrators only)." /SD IDOK
    ftu_have_config:
    nsExec::ExecToLog 'sc.exe create ${FTU_AGENT_SERVICE} binPath= "\"${FTU_AGENT_EXE}\" run --config \"${FTU_AGENT_DIR}\agent.conf\"" start= delayed-auto DisplayName= "FlowTraq Upgrade agent"'
    Pop $0
    nsExec::ExecToLog 'sc.exe description ${FTU_AGENT_SERVICE} "Serves the FlowTraq Upgrade API (HTTPS, port 9650) for the upgrade wizard."'
    Pop $0
    nsExec::ExecToLog 'sc.exe failure ${FTU_AGENT_SERVICE} reset= 86400 actions= restart/5000/restart/5000//'
    Pop $0
    nsExec::ExecToLog 'netsh advfirewall firewall add rule name="FlowTraq Upgrade agent" dir=in action=allow protocol=TCP localport=9650 program="${FTU_AGENT_EXE}"'
    Pop $0
    nsExec::ExecToLog 'sc.exe start ${FTU_AGENT_SERVICE}'
    Pop $0
  ftu_no_agent:
!macroend

!macro FtuUninstall
  ; Stop and remove the service before its files go; keep the configuration.
  nsExec::ExecToLog 'sc.exe stop ${FTU_AGENT_SERVICE}'
  Pop $0
  Sleep 3000
  nsExec::ExecToLog 'sc.exe delete ${FTU_AGENT_SERVICE}'
  Pop $0
  nsExec::ExecToLog 'netsh advfirewall firewall delete rule name="FlowTraq Upgrade agent"'
  Pop $0
!macroend
