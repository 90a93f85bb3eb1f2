/**
 * A short two-tone beep made with WebAudio in code (no audio file to fetch). Browsers only let a page
 * make sound after the person has interacted with it, so the audio context is created on the click
 * that turns the sound on; after a reload it starts suspended and resumes on the next interaction.
 */

/** Plays the alert beep. */
export class Beeper {
  #context: AudioContext | undefined;

  /** Creates (or wakes) the audio context; call it from a click so the browser allows sound. */
  prime(): void {
    const context = this.#audio();
    if (context?.state === 'suspended') void context.resume().catch(() => undefined);
  }

  /** Plays about a third of a second of sound: 880 Hz then 660 Hz, softly faded so it does not click. */
  play(): void {
    const context = this.#audio();
    if (!context) return;
    if (context.state === 'suspended') void context.resume().catch(() => undefined);
    const start = context.currentTime;
    for (const [offset, frequency] of [
      [0, 880],
      [0.17, 660],
    ] as const) {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.type = 'sine';
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.25, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.15);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(start + offset);
      oscillator.stop(start + offset + 0.16);
    }
  }

  #audio(): AudioContext | undefined {
    if (this.#context) return this.#context;
    if (typeof AudioContext === 'undefined') return undefined;
    this.#context = new AudioContext();
    return this.#context;
  }
}
