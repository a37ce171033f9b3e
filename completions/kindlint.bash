# bash completion for kindlint                                -*- shell-script -*-
_kindlint()
{
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    case $prev in
        -t|--type)
            COMPREPLY=($(compgen -W 'text markdown commit email chat' -- "$cur")); return ;;
        -f|--format)
            COMPREPLY=($(compgen -W 'text line json jsonl sarif github' -- "$cur")); return ;;
        --color|--colour)
            COMPREPLY=($(compgen -W 'auto always never' -- "$cur")); return ;;
        --fail-on)
            COMPREPLY=($(compgen -W 'info warning error never' -- "$cur")); return ;;
        --enable|--disable|--explain)
            local ids
            ids=$(kindlint --list-rules 2>/dev/null | awk 'NR > 1 { print $1; print $2; print $4 }' | sort -u)
            COMPREPLY=($(compgen -W "$ids all" -- "$cur")); return ;;
        -r|--rules|-c|--config|--baseline|--write-baseline|--stdin-filename)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --input)
            COMPREPLY=($(compgen -W 'jsonl' -- "$cur")); return ;;
        --speaker|--diff-base|-j|--jobs|--id-field|--text-field)
            return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '--type --stdin-filename --speaker --lint-quotes
            --diff-base --rules --no-default-rules --enable --disable --config
            --no-config --baseline --write-baseline --format --color --fail-on
            --quiet --verbose --fix --diff --write --fix-blanks --pass-through
            --stdout --list-rules --explain --test-rules --lsp --jobs --input
            --id-field --text-field --help --version' -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o filenames -F _kindlint kindlint
