from mergebert.cli import main

main()
