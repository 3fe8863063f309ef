"""python -m vit_inpaint.explore [--port 7860] [--run RUN]: the explorer page (make explore)."""

from vit_inpaint.explore.serve import main

if __name__ == "__main__":
    main()
