import { fireEvent, render, screen, waitFor, within } from '@testing-library/preact';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { RegionsScreen } from '../screens/Regions';
import { Regions, resetApi } from './fakeApi';
import { region } from './fixtures';

vi.mock('../api', () => import('./fakeApi'));

beforeEach(resetApi);

describe('RegionsScreen', () => {
  it('shows each region, and saves a mode and hours change with Regions.Save', async () => {
    Regions.List.mockResolvedValue([region(), region({ code: 'PA', name: 'Pennsylvania', mode: 'paused', open: false, admission: 'paused: back on Monday at 8', licensed: 0 })]);
    Regions.Save.mockResolvedValue(undefined);
    render(<RegionsScreen />);

    const ca = await screen.findByTestId('region-row-CA');
    expect(ca.textContent).toContain('California');
    expect(ca.textContent).toContain('taking patients');
    expect(ca.textContent).toContain('3 waiting');
    expect(ca.textContent).toContain('2 licensed providers on shift');
    expect(screen.getByTestId('region-row-PA').textContent).toContain('not taking patients');
    expect(screen.getByTestId('region-admission-PA').textContent).toBe('paused: back on Monday at 8');
    expect(screen.getByTestId('region-mode-CA-open').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('region-mode-PA-paused').getAttribute('aria-pressed')).toBe('true');

    fireEvent.click(screen.getByTestId('region-mode-CA-busy'));
    expect(screen.getByTestId('region-mode-CA-busy').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('region-mode-CA-open').getAttribute('aria-pressed')).toBe('false');
    fireEvent.input(screen.getByTestId('region-hours-CA'), { target: { value: 'mon-fri 08:00-18:00, sat 09:00-13:00' } });
    fireEvent.input(screen.getByTestId('region-limit-CA'), { target: { value: '5' } });
    expect(Regions.Save).not.toHaveBeenCalled();

    fireEvent.click(screen.getByTestId('region-save-CA'));
    await waitFor(() => expect(Regions.Save).toHaveBeenCalledTimes(1));
    expect(Regions.Save).toHaveBeenCalledWith({
      ...region(),
      mode: 'busy',
      busyLimit: 5,
      hours: 'mon-fri 08:00-18:00, sat 09:00-13:00',
    });
    await within(screen.getByTestId('region-row-CA')).findByText('Saved');
  });

  it('shows Go’s error in the row and keeps the edit', async () => {
    Regions.List.mockResolvedValue([region()]);
    Regions.Save.mockRejectedValue(new Error('invalid: hours rule "mon-fri 8-18": write times as HH:MM'));
    render(<RegionsScreen />);
    const hours = (await screen.findByTestId('region-hours-CA')) as HTMLInputElement;
    fireEvent.input(hours, { target: { value: 'mon-fri 8-18' } });
    fireEvent.click(screen.getByTestId('region-save-CA'));
    const err = await within(screen.getByTestId('region-row-CA')).findByTestId('error-banner');
    expect(err.textContent).toBe('invalid: hours rule "mon-fri 8-18": write times as HH:MM');
    expect(hours.value).toBe('mon-fri 8-18');
  });

  it('disables everything when the caregiver may not edit', async () => {
    Regions.List.mockResolvedValue([region({ canEdit: false })]);
    render(<RegionsScreen />);
    const save = (await screen.findByTestId('region-save-CA')) as HTMLButtonElement;
    expect(save.disabled).toBe(true);
    expect((screen.getByTestId('region-mode-CA-busy') as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId('region-hours-CA') as HTMLInputElement).disabled).toBe(true);
    expect(screen.getByTestId('regions-screen').textContent).toContain('Only support staff and administrators');
  });
});
